namespace Leasing.InMemory.Keys;

/// <summary>
/// Single keys (locks), one lock per key. Entries of keys that are free are dropped by an
/// occasional sweep once their fencing token is behind the clock: from then on the clock term of
/// <see cref="Fencing.Next"/> alone keeps the next token above every one issued, so memory stays
/// bounded by the keys in use, not by every key ever locked.
/// </summary>
internal sealed class KeyTable(TimeProvider time)
{
    private readonly SweptTable<KeyEntry> _entries = new(time);

    /// <summary>Entries currently stored, for tests of the sweep.</summary>
    internal int Count => _entries.Count;

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
        if (!_entries.TryGetValue(lease.Key, out var entry))
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

    public bool WriteState(Lease lease, ReadOnlyMemory<byte> state)
    {
        if (!_entries.TryGetValue(lease.Key, out var entry))
        {
            return false;
        }

        lock (entry.Gate)
        {
            var now = time.GetUtcNow();
            if (entry.Removed || !IsLiveHolder(entry, lease.Token, now.UtcTicks))
            {
                return false;
            }

            entry.State = new LeaseStateValue(state.ToArray(), entry.Fencing, now);
            return true;
        }
    }

    public LeaseStateValue? ReadState(string key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        lock (entry.Gate)
        {
            return entry.Removed ? null : entry.State;
        }
    }

    public bool Release(Lease lease)
    {
        if (!_entries.TryGetValue(lease.Key, out var entry))
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
        if (!_entries.TryGetValue(key, out var entry))
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
        if (_entries.TryGetValue(key, out var entry))
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

    private KeyEntry GetOrAdd(string key) => _entries.GetOrAdd(key);
}
