using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Leasing.InMemory;

/// <summary>The state of one key in a <see cref="SweptTable{TEntry}"/>. Fields are guarded by <see cref="Gate"/>.</summary>
internal abstract class SweptEntry
{
    public readonly Lock Gate = new();

    /// <summary>The last fencing token issued for the key.</summary>
    public long Fencing;

    /// <summary>Set when the sweep dropped the entry from the table: a caller holding it looks the key up again.</summary>
    public bool Removed;

    /// <summary>Whether the entry still holds something (a lease, a record) at <paramref name="nowTicks"/>.</summary>
    /// <param name="nowTicks">The backend clock, UTC ticks.</param>
    /// <returns><see langword="true"/> while the entry must be kept.</returns>
    public abstract bool IsLive(long nowTicks);
}

/// <summary>
/// Entries by key, one lock per entry. Entries that hold nothing are dropped by an occasional sweep
/// once their fencing token is behind the clock: from then on the clock term of
/// <see cref="Leasing.Fencing.Next"/> alone keeps the next token above every one issued, so memory
/// stays bounded by the keys in use, not by every key ever seen. A full pass runs only after the
/// table has doubled since the last one (amortised O(1) per added key).
/// </summary>
/// <typeparam name="TEntry">The entry type.</typeparam>
/// <param name="time">The backend clock.</param>
internal sealed class SweptTable<TEntry>(TimeProvider time)
    where TEntry : SweptEntry, new()
{
    private const int MinSweepThreshold = 1024;

    private readonly ConcurrentDictionary<string, TEntry> _entries = new(StringComparer.Ordinal);
    private int _count;
    private int _sweepThreshold = MinSweepThreshold;
    private int _sweeping;

    /// <summary>Entries currently stored, including ones not yet swept.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The entry of a key, if stored. Check <see cref="SweptEntry.Removed"/> under its gate.</summary>
    /// <param name="key">The key.</param>
    /// <param name="entry">The entry.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TEntry entry) => _entries.TryGetValue(key, out entry);

    /// <summary>The entry of a key, added when missing. Check <see cref="SweptEntry.Removed"/> under its gate and retry.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The entry.</returns>
    public TEntry GetOrAdd(string key)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        var added = new TEntry();
        entry = _entries.GetOrAdd(key, added);
        if (ReferenceEquals(entry, added) && Interlocked.Increment(ref _count) > Volatile.Read(ref _sweepThreshold))
        {
            Sweep();
        }

        return entry;
    }

    private void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var (key, entry) in _entries)
            {
                lock (entry.Gate)
                {
                    var now = time.GetUtcNow();
                    if (entry.IsLive(now.UtcTicks) || entry.Fencing >= Leasing.Fencing.ToUnixMicroseconds(now))
                    {
                        continue;
                    }

                    entry.Removed = true;
                    _entries.TryRemove(new KeyValuePair<string, TEntry>(key, entry));
                }

                Interlocked.Decrement(ref _count);
            }

            Volatile.Write(ref _sweepThreshold, Math.Max(MinSweepThreshold, Volatile.Read(ref _count) * 2));
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
