using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Leasing.Cli.Chaos;

/// <summary>
/// A loopback TCP proxy between the workers and the server, owned by the chaos run: workers connect
/// to it, and it can stall every connection (nothing moves, past the clients' command timeout), drop
/// every connection mid-command (a reset), or delay the server's replies (commands run on the server
/// while the client has given up on them).
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<int, (Socket Client, Socket Server)> _connections = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _accepting;
    private int _next;
    private long _stalledUntil;
    private long _replyDelayTicks;

    public FaultProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Nothing moves in either direction until <paramref name="duration"/> has passed.</summary>
    public void Stall(TimeSpan duration) =>
        Volatile.Write(ref _stalledUntil, Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency));

    /// <summary>Every reply from the server reaches its client <paramref name="delay"/> late (zero: on time again).</summary>
    public void DelayReplies(TimeSpan delay) =>
        Volatile.Write(ref _replyDelayTicks, (long)(delay.TotalSeconds * Stopwatch.Frequency));

    /// <summary>Resets every open connection at once; clients must reconnect.</summary>
    public int DropAll()
    {
        var dropped = 0;
        foreach (var (id, (client, server)) in _connections)
        {
            if (_connections.TryRemove(id, out _))
            {
                Reset(client);
                Reset(server);
                dropped++;
            }
        }

        return dropped;
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        DropAll();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing.
        }

        _closing.Dispose();
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, as a broken network would
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed already.
        }
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_closing.Token).ConfigureAwait(false);
            _ = Task.Run(() => ConnectAsync(client));
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_target, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Reset(client);
            server.Dispose();
            return;
        }

        var id = Interlocked.Increment(ref _next);
        _connections[id] = (client, server);
        await Task.WhenAll(PumpAsync(client, server, reply: false), PumpAsync(server, client, reply: true)).ConfigureAwait(false);
        _connections.TryRemove(id, out _);
        Reset(client);
        Reset(server);
    }

    private async Task PumpAsync(Socket from, Socket to, bool reply)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _closing.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                var arrived = Stopwatch.GetTimestamp();
                await HoldAsync(reply ? arrived + Volatile.Read(ref _replyDelayTicks) : arrived).ConfigureAwait(false);
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _closing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // Dropped, reset by the other side, or closing: the other pump ends with it.
            Reset(from);
            Reset(to);
        }
    }

    /// <summary>Waits until <paramref name="due"/> and past any stall.</summary>
    private async Task HoldAsync(long due)
    {
        while (true)
        {
            var until = Math.Max(due, Volatile.Read(ref _stalledUntil));
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50), _closing.Token).ConfigureAwait(false);
        }
    }
}
