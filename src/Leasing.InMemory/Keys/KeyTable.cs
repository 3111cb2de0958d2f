using System.Collections.Concurrent;

namespace Leasing.InMemory.Keys;

/// <summary>
/// Single keys (locks), one lock per key. Entries of keys that are free are dropped by an
/// occasional sweep once their fencing token is behind the clock: from then on the clock term of
/// <see cref="Fencing.Next"/> alone keeps the next token above every one issued, so memory stays
/// bounded by the keys in use, not by every key ever locked.
/// </summary>
internal sealed class KeyTable(TimeProvider time)
{
    private const int MinSweepThreshold = 1024;

    private readonly ConcurrentDictionary<string, KeyEntry> entries = new(StringComparer.Ordinal);
    private int count;
    private int sweepThreshold = MinSweepThreshold;
    private int sweeping;

    /// <summary>Entries currently stored, for tests of the sweep.</summary>
    internal int Count => Volatile.Read(ref count);

    public Lease? TryAcquire(string key, TimeSpan ttl)
    {
        while (true)
        {
            var entry = GetOrAdd(key);
            lock (entry.Gate)
            {
                if (entry.Removed)
                {
                    continue;
                }

                var now = time.GetUtcNow();
                if (entry.IsBusy(now.UtcTicks))
                {
                    return null;
                }

                var token = OwnerTokens.Create();
                var expiresAt = now + ttl;
                entry.Status = LeaseStatus.Held;
                entry.Token = token;
                entry.Fencing = Fencing.Next(entry.Fencing, now);
                entry.LastAcquiredTicks = now.UtcTicks;
                entry.ExpiresAtTicks = expiresAt.UtcTicks;
                return new Lease(key, token, entry.Fencing, expiresAt);
            }
        }
    }

    public Lease? Renew(Lease lease, TimeSpan ttl)
    {
        if (!entries.TryGetValue(lease.Key, out var entry))
        {
            return null;
        }

        lock (entry.Gate)
        {
            var now = time.GetUtcNow();
            if (entry.Removed || !IsLiveHolder(entry, lease.Token, now.UtcTicks))
            {
                return null;
            }

            var expiresAt = now + ttl;
            entry.ExpiresAtTicks = expiresAt.UtcTicks;
            return lease with { ExpiresAt = expiresAt };
        }
    }

    public bool Release(Lease lease)
    {
        if (!entries.TryGetValue(lease.Key, out var entry))
        {
            return false;
        }

        lock (entry.Gate)
        {
            if (entry.Removed || !IsLiveHolder(entry, lease.Token, time.GetUtcNow().UtcTicks))
            {
                return false;
            }

            entry.Status = LeaseStatus.Free;
            entry.Token = null;
            return true;
        }
    }

    public bool ReleaseWithCooldown(Lease lease, TimeSpan cooldown)
    {
        while (true)
        {
            // An unknown key is free, and a free key cools down too (our lease expired and nobody took it).
            var entry = GetOrAdd(lease.Key);
            lock (entry.Gate)
            {
                if (entry.Removed)
                {
                    continue;
                }

                var now = time.GetUtcNow();
                var ours = entry.Status == LeaseStatus.Held && string.Equals(entry.Token, lease.Token, StringComparison.Ordinal);
                if (!ours && entry.IsBusy(now.UtcTicks))
                {
                    return false;
                }

                entry.Status = LeaseStatus.CoolingDown;
                entry.Token = null;
                entry.ExpiresAtTicks = (now + cooldown).UtcTicks;
                return true;
            }
        }
    }

    public bool ForceRelease(string key)
    {
        if (!entries.TryGetValue(key, out var entry))
        {
            return false;
        }

        lock (entry.Gate)
        {
            if (entry.Removed || !entry.IsBusy(time.GetUtcNow().UtcTicks))
            {
                return false;
            }

            entry.Status = LeaseStatus.Free;
            entry.Token = null;
            return true;
        }
    }

    public LeaseState Inspect(string key)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            lock (entry.Gate)
            {
                if (!entry.Removed)
                {
                    return InMemoryStates.Describe(key, entry.Status, entry.ExpiresAtTicks, entry.LastAcquiredTicks, entry.Fencing, time.GetUtcNow().UtcTicks);
                }
            }
        }

        return new LeaseState(key, LeaseStatus.Free, null, null, 0);
    }

    private static bool IsLiveHolder(KeyEntry entry, string token, long nowTicks) =>
        entry.Status == LeaseStatus.Held
        && entry.ExpiresAtTicks > nowTicks
        && string.Equals(entry.Token, token, StringComparison.Ordinal);

    private KeyEntry GetOrAdd(string key)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        var added = new KeyEntry();
        entry = entries.GetOrAdd(key, added);
        if (ReferenceEquals(entry, added) && Interlocked.Increment(ref count) > Volatile.Read(ref sweepThreshold))
        {
            Sweep();
        }

        return entry;
    }

    // Amortised O(1) per added key: a full pass runs only after the table has doubled since the last one.
    private void Sweep()
    {
        if (Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var (key, entry) in entries)
            {
                lock (entry.Gate)
                {
                    var now = time.GetUtcNow();
                    if (entry.IsBusy(now.UtcTicks) || entry.Fencing >= Fencing.ToUnixMicroseconds(now))
                    {
                        continue;
                    }

                    entry.Removed = true;
                    entries.TryRemove(new KeyValuePair<string, KeyEntry>(key, entry));
                }

                Interlocked.Decrement(ref count);
            }

            Volatile.Write(ref sweepThreshold, Math.Max(MinSweepThreshold, Volatile.Read(ref count) * 2));
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }
}
