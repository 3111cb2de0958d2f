using Npgsql;

namespace Leasing.Sql;

/// <summary>
/// An <see cref="ISqlNotificationChannel"/> on one dedicated Npgsql connection: LISTENs on the channels
/// asked for and calls their handlers with each payload. When the connection drops it reconnects and
/// listens on every channel again (notifications sent meanwhile are lost; waiters poll).
/// </summary>
/// <remarks>
/// One background loop owns the connection and is the only code that uses it: it opens it, sends every
/// <c>LISTEN</c> and waits for notifications in short slices, sending the LISTENs asked for meanwhile between
/// two slices. A connection runs one command at a time, and a LISTEN sent while the loop waits on it fails
/// (NpgsqlOperationInProgressException), so no caller ever touches it.
/// </remarks>
public sealed class NpgsqlNotificationChannel : ISqlNotificationChannel, IAsyncDisposable
{
    // How long one wait lasts before the loop looks for new channels to LISTEN on: the longest a new
    // subscription waits for its LISTEN (only the first subscription of a channel waits at all).
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(100);

    // A connection that was silently cut (no reset from the other end) shows up only when something is sent.
    private static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(15);

    private readonly NpgsqlDataSource _dataSource;
    private readonly Dictionary<string, Action<string>[]> _handlers = new(StringComparer.Ordinal);

    // Channels LISTENed on the current connection, and the LISTENs asked for but not yet sent on it (each with
    // the task its callers wait on). Guarded by _gate; the loop clears _listening when the connection goes.
    private readonly HashSet<string> _listening = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _pending = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();

    // Released when a caller asks for a LISTEN, so an idle loop (no connection, nothing to listen on) opens one.
    private readonly SemaphoreSlim _asked = new(0);
    private Task? _loop;
    private bool _disposed;

    /// <summary>Creates the channel; the connection opens on the first <see cref="ListenAsync"/>.</summary>
    /// <param name="dataSource">The data source to take the listening connection from.</param>
    public NpgsqlNotificationChannel(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Completes once the channel is LISTENed on the connection. When the connection cannot be opened or the LISTEN
    /// fails, it throws <see cref="LeaseStoreUnavailableException"/> and leaves no handler behind; a later call tries
    /// again. Once listening, a dropped connection is reopened and every channel LISTENed again without the caller.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is null, empty or whitespace.</exception>
    /// <exception cref="ObjectDisposedException">The channel was disposed.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The connection could not be opened or the LISTEN failed.</exception>
    public async ValueTask<IAsyncDisposable> ListenAsync(string channel, Action<string> onNotification, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(channel);
        ArgumentNullException.ThrowIfNull(onNotification);
        TaskCompletionSource? listened = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _handlers[channel] = _handlers.TryGetValue(channel, out var current) ? [.. current, onNotification] : [onNotification];
            if (!_listening.Contains(channel))
            {
                if (!_pending.TryGetValue(channel, out listened))
                {
                    listened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _pending[channel] = listened;
                }

                _asked.Release();
            }

            _loop ??= Task.Run(RunAsync, CancellationToken.None);
        }

        var listening = new Listening(this, channel, onNotification);
        if (listened is not null)
        {
            try
            {
                await listened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Not listening: no handler may stay behind, or a retry would find it and skip the LISTEN.
                await listening.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return listening;
    }

    /// <summary>Stops listening and closes the connection; pending <see cref="ListenAsync"/> calls fail.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loop = _loop;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        FailPending(new ObjectDisposedException(nameof(NpgsqlNotificationChannel)));
        _stop.Dispose();
        _asked.Dispose();
    }

    /// <summary>The loop that owns the connection: (re)open, LISTEN what is asked for, wait a slice, repeat.</summary>
    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var failures = 0;
        var lastTraffic = Environment.TickCount64;
        NpgsqlConnection? connection = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (connection is null && !IsWanted())
                    {
                        // Nothing to listen on (every caller left after a failure): hold no connection and make
                        // no attempts until someone asks again.
                        await _asked.WaitAsync(stop).ConfigureAwait(false);
                        continue;
                    }

                    if (connection is null)
                    {
                        connection = await OpenAsync(stop).ConfigureAwait(false);
                        lastTraffic = Environment.TickCount64;
                    }

                    if (await ListenOnNewChannelsAsync(connection, stop).ConfigureAwait(false))
                    {
                        lastTraffic = Environment.TickCount64;
                    }

                    failures = 0;
                    if (await connection.WaitAsync(WaitSlice, stop).ConfigureAwait(false))
                    {
                        lastTraffic = Environment.TickCount64;
                    }
                    else if (Environment.TickCount64 - lastTraffic >= (long)Keepalive.TotalMilliseconds)
                    {
                        await ExecuteAsync(connection, "SELECT 1", stop).ConfigureAwait(false);
                        lastTraffic = Environment.TickCount64;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Whatever broke (the server, the network, a LISTEN), this connection is done with: close it
                    // before the next one opens, fail the callers waiting for a LISTEN, and retry after a pause.
                    if (connection is not null)
                    {
                        await CloseAsync(connection).ConfigureAwait(false);
                        connection = null;
                    }

                    FailPending(new LeaseStoreUnavailableException($"PostgreSQL notifications: listening failed: {e.Message}", e));
                    failures++;
                    try
                    {
                        await Task.Delay(ReconnectDelay(failures), stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            if (connection is not null)
            {
                await CloseAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private bool IsWanted()
    {
        lock (_gate)
        {
            return _handlers.Count > 0 || _pending.Count > 0;
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken stop)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stop);
        limit.CancelAfter(CommandLimit);
        var connection = _dataSource.CreateConnection();
        connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
        try
        {
            await connection.OpenAsync(limit.Token).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await CloseAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends LISTEN for every channel with handlers that the connection does not listen on yet; true when it sent one.</summary>
    private async Task<bool> ListenOnNewChannelsAsync(NpgsqlConnection connection, CancellationToken stop)
    {
        var sent = false;
        while (true)
        {
            string? channel;
            lock (_gate)
            {
                channel = _handlers.Keys.FirstOrDefault(c => !_listening.Contains(c));
            }

            if (channel is null)
            {
                return sent;
            }

            sent = true;

            // Channel names are identifiers the stores build from a checked table prefix; quoted all the same.
            await ExecuteAsync(connection, $"LISTEN \"{channel.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", stop).ConfigureAwait(false);
            lock (_gate)
            {
                _listening.Add(channel);
                if (_pending.Remove(channel, out var listened))
                {
                    listened.TrySetResult();
                }
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken stop)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stop);
        limit.CancelAfter(CommandLimit);
        var command = new NpgsqlCommand(sql, connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(limit.Token).ConfigureAwait(false);
        }
    }

    private async Task CloseAsync(NpgsqlConnection connection)
    {
        lock (_gate)
        {
            _listening.Clear();
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
        {
            // A broken connection may fail to close cleanly; it is gone either way.
        }
    }

    private void FailPending(Exception error)
    {
        TaskCompletionSource[] failed;
        lock (_gate)
        {
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var listened in failed)
        {
            listened.TrySetException(error);
        }
    }

    private void Dispatch(string channel, string payload)
    {
        Action<string>[]? handlers;
        lock (_gate)
        {
            handlers = _handlers.GetValueOrDefault(channel);
        }

        foreach (var handler in handlers ?? [])
        {
            try
            {
                handler(payload);
            }
            catch (Exception)
            {
                // A handler's failure is its own; it must not break the connection the others listen on.
            }
        }
    }

    private static TimeSpan ReconnectDelay(int failures)
    {
        var delay = TimeSpan.FromMilliseconds(100 * Math.Pow(2, Math.Min(failures - 1, 10)));
        return delay < MaxReconnectDelay ? delay : MaxReconnectDelay;
    }

    private void Remove(string channel, Action<string> handler)
    {
        lock (_gate)
        {
            if (_handlers.TryGetValue(channel, out var current))
            {
                var index = Array.IndexOf(current, handler);
                if (index < 0)
                {
                    return;
                }

                if (current.Length == 1)
                {
                    // The connection keeps listening (cheap); nothing is dispatched for the channel. With no
                    // handler left nobody waits for a pending LISTEN of it either.
                    _handlers.Remove(channel);
                    _pending.Remove(channel);
                }
                else
                {
                    _handlers[channel] = [.. current.AsSpan(0, index), .. current.AsSpan(index + 1)];
                }
            }
        }
    }

    private sealed class Listening(NpgsqlNotificationChannel owner, string channel, Action<string> handler) : IAsyncDisposable
    {
        private int _disposed;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(channel, handler);
            }

            return ValueTask.CompletedTask;
        }
    }
}
