using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Leasing.Redis.Tests.Support;

/// <summary>
/// A redis-server of this test alone: its own free port on loopback, no persistence, noeviction,
/// started as a child process so it can be stopped and started again (a restart that loses all
/// data) without touching the shared server other tests use.
/// </summary>
public sealed class PrivateRedisServer : IAsyncDisposable
{
    private Process? process;

    private PrivateRedisServer(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port.</summary>
    public static async Task<PrivateRedisServer> StartAsync()
    {
        var server = new PrivateRedisServer(FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>A connection for a test: fails fast while the server is down and reconnects by itself.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 1000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.ReconnectRetryPolicy = new LinearRetry(100);
        options.AllowAdmin = true;
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>Starts the server (again) on its port, empty, and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir", Path.GetTempPath()])
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed; eng/services.sh start installs it.", e);
        }

        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Kills the server (no save): every key and every loaded script is gone.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false } running)
        {
            running.Kill();
            await running.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing is answered until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>Lets a paused server run again (SIGCONT); it then answers what it received meanwhile.</summary>
    public void Resume() => Signal("-CONT");

    public async ValueTask DisposeAsync() => await StopAsync();

    private void Signal(string signal)
    {
        var running = process ?? throw new InvalidOperationException("The server is not running.");
        using var kill = Process.Start("kill", [signal, running.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
