using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasing.Cli.Chaos;

/// <summary>
/// A server the chaos run starts for itself on a free loopback port, in a temp folder, and can
/// restart: Redis without persistence (a restart loses every key), PostgreSQL with an
/// immediate-mode restart (a crash: committed data survives, open connections die).
/// </summary>
internal abstract class PrivateServer : IAsyncDisposable
{
    protected PrivateServer(string folder, int port)
    {
        Folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Whether a restart loses the server's data.</summary>
    public abstract bool RestartLosesData { get; }

    /// <summary>The connection string for a client that connects through <paramref name="port"/> (the proxy's or the server's).</summary>
    public abstract string ConnectionString(int port);

    public abstract Task RestartAsync(CancellationToken cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    protected string Folder { get; }

    protected abstract Task StopAsync();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A temp folder every user can enter (PostgreSQL runs as another user).</summary>
    protected static string NewFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        return folder;
    }

    protected static async Task<string> RunAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new IOException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new IOException($"{Path.GetFileName(file)} {string.Join(' ', start.ArgumentList)} failed (exit {process.ExitCode}): {(await error.ConfigureAwait(false)).Trim()} {(await output.ConfigureAwait(false)).Trim()}");
        }

        return await output.ConfigureAwait(false);
    }

    protected static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>redis-server on a free loopback port, no persistence, <c>noeviction</c>; a restart kills it and starts it empty.</summary>
internal sealed class PrivateRedisServer : PrivateServer
{
    private readonly string _binary;
    private Process? _process;

    private PrivateRedisServer(string binary, string folder, int port)
        : base(folder, port) => _binary = binary;

    public override bool RestartLosesData => true;

    public static async Task<PrivateRedisServer> StartAsync(CancellationToken cancellationToken)
    {
        var binary = FindOnPath("redis-server")
            ?? throw new IOException("redis-server is not installed: install it (eng/services.sh start, or apt-get install redis-server) or name a server with --redis CONN.");
        var server = new PrivateRedisServer(binary, NewFolder("leasing-chaos-redis-"), FreePort());
        try
        {
            await server.LaunchAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override string ConnectionString(int port) => $"127.0.0.1:{port}";

    public override async Task RestartAsync(CancellationToken cancellationToken)
    {
        await StopAsync().ConfigureAwait(false);
        await LaunchAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Exited already.
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            process.Dispose();
        }
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no",
            "--maxmemory-policy", "noeviction", "--daemonize", "no", "--dir", Folder, "--logfile", Path.Combine(Folder, "redis.log"),
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new IOException("Could not start redis-server.");
        var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (!await PingAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_process.HasExited || Stopwatch.GetTimestamp() > deadline)
            {
                throw new IOException($"redis-server did not start on port {Port}; see {Path.Combine(Folder, "redis.log")}.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
            await socket.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[16];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// A private PostgreSQL cluster (initdb + pg_ctl, as the <c>postgres</c> user when run as root) on a
/// free loopback port. <c>fsync=off</c> (the host does not crash, only the server), but
/// <c>synchronous_commit</c> stays on: an immediate restart then loses nothing a client saw
/// committed, as on a real deployment.
/// </summary>
internal sealed class PrivatePostgresServer : PrivateServer
{
    private readonly string _bin;
    private readonly bool _asPostgres;

    private PrivatePostgresServer(string bin, bool asPostgres, string folder, int port)
        : base(folder, port)
    {
        _bin = bin;
        _asPostgres = asPostgres;
    }

    public override bool RestartLosesData => false;

    private string Data => Path.Combine(Folder, "data");

    private string Log => Path.Combine(Folder, "pg.log");

    public static async Task<PrivatePostgresServer> StartAsync(CancellationToken cancellationToken)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderBy(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .LastOrDefault()
            : null;
        bin ??= FindOnPath("initdb") is { } initdb ? Path.GetDirectoryName(initdb) : null;
        if (bin is null)
        {
            throw new IOException("PostgreSQL is not installed: install it (eng/services.sh start, or apt-get install postgresql) or name a server with --postgres CONN.");
        }

        var asPostgres = Environment.UserName == "root";
        var server = new PrivatePostgresServer(bin, asPostgres, NewFolder("leasing-chaos-pg-"), FreePort());
        try
        {
            if (asPostgres)
            {
                await RunAsync("chown", ["postgres", server.Folder], cancellationToken).ConfigureAwait(false);
            }

            await server.PgAsync("initdb", ["-D", server.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], cancellationToken).ConfigureAwait(false);
            await server.PgCtlAsync("start", cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override string ConnectionString(int port) => $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";

    /// <summary><c>pg_ctl restart -m immediate</c>: the server crashes and recovers from its log.</summary>
    public override Task RestartAsync(CancellationToken cancellationToken) => PgCtlAsync("restart", cancellationToken);

    protected override async Task StopAsync()
    {
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            await PgAsync("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"], CancellationToken.None).ConfigureAwait(false);
        }
    }

    private Task PgCtlAsync(string action, CancellationToken cancellationToken) =>
        PgAsync(
            "pg_ctl",
            [
                "-D", Data, "-l", Log, "-w", "-t", "30", .. (action == "restart" ? new[] { "-m", "immediate" } : []),
                "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder} -c fsync=off -c full_page_writes=off -c max_connections=300",
                action,
            ],
            cancellationToken);

    private Task<string> PgAsync(string tool, string[] args, CancellationToken cancellationToken) =>
        _asPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args], cancellationToken)
            : RunAsync(Path.Combine(_bin, tool), args, cancellationToken);
}
