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

    private readonly ConcurrentDictionary<(string Kind, string Name), Action[]> _subscribers = new();
    private readonly Lock _gate = new();

    public static SqlSignals For(DbDataSource source, string prefix) =>
        Hubs.GetValue(source, static _ => new ConcurrentDictionary<string, SqlSignals>(StringComparer.Ordinal))
            .GetOrAdd(prefix, static _ => new SqlSignals());

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
