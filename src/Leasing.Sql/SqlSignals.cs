using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Leasing.Sql;

/// <summary>
/// Release and completion signals of one set of tables (a data source and a table prefix), shared by every
/// store object over them in this process: a release through one store wakes the waiters of all. Signals
/// can be lost; waiters poll as well.
/// </summary>
internal sealed class SqlSignals
{
    public const string Release = "release";
    public const string Complete = "complete";

    private static readonly ConditionalWeakTable<DbDataSource, ConcurrentDictionary<string, SqlSignals>> Hubs = new();

    // Waiters renew their marker rows well before they lapse; a marker outlives a crashed waiter by MarkerTtl at most.
    private static readonly TimeSpan MarkerTtl = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan MarkerRefresh = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Kind, string Name), Action[]> _subscribers = new();
    // One LISTEN per kind, shared by every subscriber; a failed one is replaced by the next subscriber's try.
    private readonly Dictionary<string, Task> _listening = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SqlRunner _runner;
    private readonly ISqlNotificationChannel? _notifications;
    private Task? _refresh;

    private SqlSignals(SqlRunner runner, ISqlNotificationChannel? notifications)
    {
        _runner = runner;
        _notifications = runner.Dialect == SqlDialect.PostgreSql ? notifications : null;
    }

    public static SqlSignals For(DbDataSource source, SqlRunner runner, ISqlNotificationChannel? notifications) =>
        Hubs.GetValue(source, static _ => new ConcurrentDictionary<string, SqlSignals>(StringComparer.Ordinal))
            .GetOrAdd(runner.Names.Prefix, static (_, state) => new SqlSignals(state.runner, state.notifications), (runner, notifications));

    /// <summary>
    /// Subscribes in this process and, on PostgreSQL with a notification channel, listens for other
    /// processes' NOTIFYs and marks the name as waited on (so they send them).
    /// </summary>
    public async ValueTask<IAsyncDisposable> SubscribeAsync(string kind, string name, Action callback, CancellationToken cancellationToken)
    {
        var subscription = Subscribe(kind, name, callback);
        if (_notifications is null)
        {
            return subscription;
        }

        try
        {
            // The caller's token limits its own wait only: the shared LISTEN goes on for the next subscriber, so a
            // cancelled caller never leaves a second handler registered for the same kind.
            await Listening(kind).WaitAsync(cancellationToken).ConfigureAwait(false);
            await MarkAsync(kind, [name], cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_refresh is null || _refresh.IsCompleted)
                {
                    _refresh = Task.Run(RefreshMarkersAsync, CancellationToken.None);
                }
            }

            return subscription;
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The LISTEN of <paramref name="kind"/>: the one under way or done, or a new try when the last one failed.</summary>
    private Task Listening(string kind)
    {
        lock (_gate)
        {
            if (_listening.TryGetValue(kind, out var listening) && !listening.IsFaulted && !listening.IsCanceled)
            {
                return listening;
            }

            listening = ListenAsync(kind);

            // Observed here, because every subscriber that waited on it may have left before it failed.
            _ = listening.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _listening[kind] = listening;
            return listening;
        }
    }

    private async Task ListenAsync(string kind)
    {
        // Kept for the life of the process, like the signals: the channel re-LISTENs by itself after a reconnect.
        await _notifications!.ListenAsync(_runner.Names.Prefix + kind, payload => Publish(kind, payload)).ConfigureAwait(false);
    }

    private ValueTask<int> MarkAsync(string kind, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var args = new SqlArgs().Text("kind", kind).Int64("ttl", SqlLeaseStore.Micro(MarkerTtl))
            .Text("names", System.Text.Json.JsonSerializer.Serialize(names, SqlJson.Default.IReadOnlyListString));
        return _runner.ExecuteAsync(LeaseStatements.MarkWaiting(_runner.Names), args, cancellationToken);
    }

    /// <summary>
    /// Renews the markers of the names waited on in this process; ends when nobody waits any more (the next
    /// subscriber starts it again), so no loop outlives its waiters or keeps a disposed data source busy.
    /// </summary>
    private async Task RefreshMarkersAsync()
    {
        while (true)
        {
            await Task.Delay(MarkerRefresh).ConfigureAwait(false);
            lock (_gate)
            {
                if (_subscribers.IsEmpty)
                {
                    _refresh = null;
                    return;
                }
            }

            foreach (var kind in new[] { Release, Complete })
            {
                var names = _subscribers.Keys.Where(k => k.Kind == kind).Select(k => k.Name).ToList();
                if (names.Count == 0)
                {
                    continue;
                }

                try
                {
                    await MarkAsync(kind, names, CancellationToken.None).ConfigureAwait(false);
                }
                catch (LeaseStoreUnavailableException)
                {
                    // Try again at the next refresh; the markers last three refreshes, and waiters poll.
                }
                catch (ObjectDisposedException)
                {
                    // The host disposed the data source: nothing to renew any more.
                    return;
                }
            }
        }
    }

    /// <summary>Whether anyone in this process waits for <paramref name="name"/>.</summary>
    public bool IsWatched(string kind, string name) => _subscribers.ContainsKey((kind, name));

    public IAsyncDisposable Subscribe(string kind, string name, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_gate)
        {
            _subscribers[(kind, name)] = _subscribers.TryGetValue((kind, name), out var current) ? [.. current, callback] : [callback];
        }

        return new Subscription(this, kind, name, callback);
    }

    /// <summary>Calls the subscribers of <paramref name="name"/> in this process.</summary>
    public void Publish(string kind, string name)
    {
        if (_subscribers.TryGetValue((kind, name), out var current))
        {
            foreach (var callback in current)
            {
                callback();
            }
        }
    }

    private void Unsubscribe(string kind, string name, Action callback)
    {
        lock (_gate)
        {
            if (!_subscribers.TryGetValue((kind, name), out var current))
            {
                return;
            }

            var index = Array.IndexOf(current, callback);
            if (index < 0)
            {
                return;
            }

            if (current.Length == 1)
            {
                _subscribers.TryRemove((kind, name), out _);
            }
            else
            {
                _subscribers[(kind, name)] = [.. current.AsSpan(0, index), .. current.AsSpan(index + 1)];
            }
        }
    }

    private sealed class Subscription(SqlSignals owner, string kind, string name, Action callback) : IAsyncDisposable
    {
        private int _disposed;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(kind, name, callback);
            }

            return ValueTask.CompletedTask;
        }
    }
}
