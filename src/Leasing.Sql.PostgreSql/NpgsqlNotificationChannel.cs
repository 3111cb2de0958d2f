using System.Collections.Concurrent;
using Npgsql;

namespace Leasing.Sql;

/// <summary>
/// An <see cref="ISqlNotificationChannel"/> on one dedicated Npgsql connection: LISTENs on the channels
/// asked for and calls their handlers with each payload. When the connection drops it reconnects and
/// listens again (notifications sent meanwhile are lost; waiters poll).
/// </summary>
public sealed class NpgsqlNotificationChannel : ISqlNotificationChannel, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ConcurrentDictionary<string, Action<string>[]> _handlers = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _commands = new(1, 1);
    private NpgsqlConnection? _connection;
    private Task? _loop;

    /// <summary>Creates the channel; the connection opens on the first <see cref="ListenAsync"/>.</summary>
    /// <param name="dataSource">The data source to take the listening connection from.</param>
    public NpgsqlNotificationChannel(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
    }

    /// <inheritdoc/>
    public async ValueTask<IAsyncDisposable> ListenAsync(string channel, Action<string> onNotification, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(channel);
        ArgumentNullException.ThrowIfNull(onNotification);
        bool first;
        lock (_gate)
        {
            first = !_handlers.TryGetValue(channel, out var current);
            _handlers[channel] = first ? [onNotification] : [.. current!, onNotification];
        }

        if (first)
        {
            await EnsureListeningAsync(channel, cancellationToken).ConfigureAwait(false);
        }

        return new Listening(this, channel, onNotification);
    }

    /// <summary>Stops listening and closes the connection.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_connection is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        _commands.Dispose();
    }

    private async Task EnsureListeningAsync(string channel, CancellationToken cancellationToken)
    {
        await _commands.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is null)
            {
                _connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                _loop = Task.Run(ReceiveAsync, CancellationToken.None);
            }
            else
            {
                await ListenOnAsync(_connection, channel, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _commands.Release();
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        connection.Notification += (_, e) =>
        {
            if (_handlers.TryGetValue(e.Channel, out var handlers))
            {
                foreach (var handler in handlers)
                {
                    handler(e.Payload);
                }
            }
        };
        foreach (var channel in _handlers.Keys)
        {
            await ListenOnAsync(connection, channel, cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private static async Task ListenOnAsync(NpgsqlConnection connection, string channel, CancellationToken cancellationToken)
    {
        // Channel names are identifiers the stores build from a checked table prefix; quoted all the same.
        var command = new NpgsqlCommand($"LISTEN \"{channel.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReceiveAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var connection = _connection!;
                await _commands.WaitAsync(_stop.Token).ConfigureAwait(false);
                _commands.Release();

                // Wait for notifications in short slices, so a LISTEN for a new channel gets the connection in between.
                await connection.WaitAsync(TimeSpan.FromMilliseconds(200), _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
            {
                await ReconnectAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ReconnectAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
                await _commands.WaitAsync(_stop.Token).ConfigureAwait(false);
                try
                {
                    if (_connection is { } old)
                    {
                        await old.DisposeAsync().ConfigureAwait(false);
                    }

                    _connection = await OpenAsync(_stop.Token).ConfigureAwait(false);
                    return;
                }
                finally
                {
                    _commands.Release();
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                // Still down: try again after the delay; waiters poll meanwhile.
            }
        }
    }

    private void Remove(string channel, Action<string> handler)
    {
        lock (_gate)
        {
            if (_handlers.TryGetValue(channel, out var current))
            {
                var rest = current.Where(h => h != handler).ToArray();
                if (rest.Length == 0)
                {
                    // The connection keeps listening (cheap); nothing is dispatched for the channel.
                    _handlers.TryRemove(channel, out _);
                }
                else
                {
                    _handlers[channel] = rest;
                }
            }
        }
    }

    private sealed class Listening(NpgsqlNotificationChannel owner, string channel, Action<string> handler) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            owner.Remove(channel, handler);
            return ValueTask.CompletedTask;
        }
    }
}
