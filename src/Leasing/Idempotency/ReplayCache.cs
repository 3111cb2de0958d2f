using System.Collections.Concurrent;

namespace Leasing;

/// <summary>
/// The stored outcomes this executor saw lately, per key with their fingerprint, for
/// <see cref="IdempotencyOptions.ReplayCacheDuration"/> on the local clock: a later duplicate in this process
/// replays from here without a round trip. Bounded: past <see cref="Capacity"/> entries, expired ones are
/// swept, and while it is still full nothing new is added (the store answers as without the cache).
/// </summary>
internal sealed class ReplayCache(TimeSpan duration, TimeProvider time)
{
    /// <summary>The most outcomes kept at once.</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Kept beside the dictionary (its Count takes every lock, too dear on each execution); approximate
    // under races, which only moves the bound by a few entries.
    private int _count;
    private readonly long _span = (long)(duration.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    /// <summary>The outcome stored for <paramref name="key"/> under <paramref name="fingerprint"/>, while fresh; else null (another fingerprint goes to the store, which refuses it).</summary>
    public ExecutionOutcome? TryGet(string key, string fingerprint)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (time.GetTimestamp() >= entry.Until)
        {
            Remove(key, entry);
            return null;
        }

        return string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal)
            ? ExecutionOutcome.Cached(entry.Status, entry.Payload)
            : null;
    }

    /// <summary>Keeps a stored outcome (succeeded or failed terminally) of <paramref name="key"/>.</summary>
    public void Add(string key, string fingerprint, ExecutionOutcome outcome)
    {
        if (outcome.Status is not (IdempotencyStatus.Succeeded or IdempotencyStatus.Failed))
        {
            return;
        }

        var now = time.GetTimestamp();
        if (Volatile.Read(ref _count) >= Capacity)
        {
            foreach (var (k, e) in _entries)
            {
                if (now >= e.Until)
                {
                    Remove(k, e);
                }
            }

            if (Volatile.Read(ref _count) >= Capacity)
            {
                return;
            }
        }

        var added = new Entry(fingerprint, outcome.Status, outcome.Payload, now + _span);
        if (_entries.TryAdd(key, added))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _entries[key] = added;
        }
    }

    private void Remove(string key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private sealed record Entry(string Fingerprint, IdempotencyStatus Status, byte[] Payload, long Until);
}
