using System.Collections.Concurrent;

namespace Leasing;

/// <summary>
/// The stored outcomes this executor saw lately, per key with their fingerprint, for
/// <see cref="IdempotencyOptions.ReplayCacheDuration"/> on the local clock: a later duplicate in this process
/// replays from here without a round trip. Bounded by count and by payload bytes: past either bound, expired
/// entries are swept (at most once per eighth of the duration), and while it is still full nothing new is added
/// (the store answers as without the cache). An entry lives for the duration from when it was added, whatever
/// the store's own expiry of the record. Which outcomes may be added is the executor's call: a flight that an
/// eviction invalidated (SingleFlight's generation guard) adds nothing.
/// </summary>
internal sealed class ReplayCache(TimeSpan duration, TimeProvider time)
{
    /// <summary>The most outcomes kept at once.</summary>
    public const int Capacity = 10_000;

    /// <summary>The most payload bytes kept at once (all entries together).</summary>
    public const long CapacityBytes = 16L * 1024 * 1024;

    /// <summary>The largest payload kept; a larger outcome is replayed by the store.</summary>
    public const int MaxEntryBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Kept beside the dictionary (its Count takes every lock, too dear on each execution); approximate
    // under races, which only moves the bounds by a few entries.
    private int _count;
    private long _bytes;
    private long _nextSweep;
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
        if (outcome.Status is not (IdempotencyStatus.Succeeded or IdempotencyStatus.Failed) || outcome.Payload.Length > MaxEntryBytes)
        {
            return;
        }

        var now = time.GetTimestamp();
        if (Volatile.Read(ref _count) >= Capacity || Volatile.Read(ref _bytes) + outcome.Payload.Length > CapacityBytes)
        {
            // Full: sweep the expired entries, at most once per eighth of the duration (a sweep walks them all).
            var next = Volatile.Read(ref _nextSweep);
            if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + Math.Max(1, _span / 8), next) != next)
            {
                return;
            }

            foreach (var (k, e) in _entries)
            {
                if (now >= e.Until)
                {
                    Remove(k, e);
                }
            }

            if (Volatile.Read(ref _count) >= Capacity || Volatile.Read(ref _bytes) + outcome.Payload.Length > CapacityBytes)
            {
                return;
            }
        }

        var added = new Entry(fingerprint, outcome.Status, outcome.Payload, now + _span);
        while (true)
        {
            if (_entries.TryGetValue(key, out var old))
            {
                if (_entries.TryUpdate(key, added, old))
                {
                    Interlocked.Add(ref _bytes, added.Payload.Length - old.Payload.Length);
                    break;
                }
            }
            else if (_entries.TryAdd(key, added))
            {
                Interlocked.Increment(ref _count);
                Interlocked.Add(ref _bytes, added.Payload.Length);
                break;
            }
        }
    }

    /// <summary>Forgets <paramref name="key"/>.</summary>
    public void Forget(string key)
    {
        if (_entries.TryRemove(key, out var entry))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _bytes, -entry.Payload.Length);
        }
    }

    private void Remove(string key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _bytes, -entry.Payload.Length);
        }
    }

    private sealed record Entry(string Fingerprint, IdempotencyStatus Status, byte[] Payload, long Until);
}
