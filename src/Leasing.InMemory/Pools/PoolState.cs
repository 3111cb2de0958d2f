using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using Leasing.Internal;

namespace Leasing.InMemory.Pools;

/// <summary>
/// One pool: its members and two indexes, guarded by one lock per pool. Free current members sit
/// in a heap ordered by <see cref="PoolMember.Sequence"/> (least recently acquired first); held
/// and cooling members sit in a heap ordered by expiry, from which acquire takes back the expired
/// ones lazily. So an acquire is O(log N) and never steps past held members.
/// </summary>
internal sealed class PoolState(string name, TimeProvider time)
{
    /// <summary>The members version of the unversioned acquires: no check.</summary>
    public const long AnyVersion = -1;

    private static readonly ReadOnlyCollection<string> NoIds = new([]);

    private readonly Lock gate = new();
    private readonly Dictionary<string, PoolMember> known = new(StringComparer.Ordinal);
    private readonly IndexedMinHeap<PoolMember, FreeSlot> free = new();
    private readonly IndexedMinHeap<PoolMember, ExpirySlot> busy = new();
    private PoolMember[] current = [];
    private ReadOnlyCollection<string> currentIds = NoIds;
    private bool hasMembers;
    private long version;
    private long lastSequence;
    private long membershipStamp;
    private Action[] subscribers = [];

    public string Name => name;

    public Lease? TryAcquireLeastRecentlyUsed(TimeSpan ttl, long membersVersion, out PoolMembersOutdatedException? outdated)
    {
        lock (gate)
        {
            if (IsOutdated(membersVersion, out outdated))
            {
                return null;
            }

            var now = time.GetUtcNow();
            ReclaimExpired(now.UtcTicks);
            return free.Count == 0 ? null : Claim(free.Pop(), now, ttl);
        }
    }

    public Lease? TryAcquireMember(string id, TimeSpan ttl, long membersVersion, out PoolMembersOutdatedException? outdated)
    {
        lock (gate)
        {
            if (IsOutdated(membersVersion, out outdated))
            {
                return null;
            }

            if (!known.TryGetValue(id, out var member) || !member.IsMember)
            {
                return null;
            }

            var now = time.GetUtcNow();
            Normalize(member, now.UtcTicks);
            if (member.Status != LeaseStatus.Free)
            {
                return null;
            }

            free.Remove(member);
            return Claim(member, now, ttl);
        }
    }

    public Lease? Renew(Lease lease, TimeSpan ttl)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (!known.TryGetValue(lease.Key, out var member) || !IsLiveHolder(member, lease.Token, now.UtcTicks))
            {
                return null;
            }

            var expiresAt = now + ttl;
            member.ExpiresAtTicks = expiresAt.UtcTicks;
            busy.ChangeKey(member, member.ExpiresAtTicks);
            return lease with { ExpiresAt = expiresAt };
        }
    }

    public bool WriteState(Lease lease, ReadOnlyMemory<byte> state)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (!known.TryGetValue(lease.Key, out var member) || !member.IsMember || !IsLiveHolder(member, lease.Token, now.UtcTicks))
            {
                return false;
            }

            member.State = new LeaseStateValue(state.ToArray(), member.Fencing, now);
            return true;
        }
    }

    public LeaseStateValue? ReadState(string id)
    {
        lock (gate)
        {
            return known.TryGetValue(id, out var member) ? member.State : null;
        }
    }

    public bool Release(Lease lease)
    {
        lock (gate)
        {
            if (!known.TryGetValue(lease.Key, out var member) || !IsLiveHolder(member, lease.Token, time.GetUtcNow().UtcTicks))
            {
                return false;
            }

            busy.Remove(member);
            MakeFree(member);
        }

        NotifyReleased();
        return true;
    }

    public bool ReleaseWithCooldown(Lease lease, TimeSpan cooldown)
    {
        lock (gate)
        {
            if (!known.TryGetValue(lease.Key, out var member))
            {
                return false;
            }

            var now = time.GetUtcNow();
            var nowTicks = now.UtcTicks;
            Normalize(member, nowTicks);
            var ours = member.Status == LeaseStatus.Held && string.Equals(member.Token, lease.Token, StringComparison.Ordinal);
            if (!ours && member.Status != LeaseStatus.Free)
            {
                return false;
            }

            // Our lease, or a free key (our lease expired and nobody took it): block it either way.
            if (IndexedMinHeap<PoolMember, FreeSlot>.Contains(member))
            {
                free.Remove(member);
            }

            member.Status = LeaseStatus.CoolingDown;
            member.Token = null;
            member.ExpiresAtTicks = (now + cooldown).UtcTicks;
            if (IndexedMinHeap<PoolMember, ExpirySlot>.Contains(member))
            {
                busy.ChangeKey(member, member.ExpiresAtTicks);
            }
            else
            {
                busy.Push(member, member.ExpiresAtTicks);
            }
        }

        NotifyWhenCooled(cooldown);
        return true;
    }

    public bool ForceRelease(string id)
    {
        lock (gate)
        {
            if (!known.TryGetValue(id, out var member))
            {
                return false;
            }

            Normalize(member, time.GetUtcNow().UtcTicks);
            if (member.Status == LeaseStatus.Free)
            {
                return false;
            }

            busy.Remove(member);
            MakeFree(member);
        }

        NotifyReleased();
        return true;
    }

    public IReadOnlyList<LeaseState> Inspect()
    {
        lock (gate)
        {
            var nowTicks = time.GetUtcNow().UtcTicks;
            var states = new LeaseState[current.Length];
            for (var i = 0; i < states.Length; i++)
            {
                var member = current[i];
                states[i] = InMemoryStates.Describe(
                    member.Id,
                    member.Status,
                    member.ExpiresAtTicks,
                    member.HasBeenAcquired ? member.LastAcquiredTicks : null,
                    member.Fencing,
                    nowTicks);
            }

            return states;
        }
    }

    public IReadOnlyList<string> GetMembers()
    {
        lock (gate)
        {
            return currentIds;
        }
    }

    public void SetMembers(IReadOnlyCollection<string> members, long newVersion)
    {
        lock (gate)
        {
            if (hasMembers && newVersion < version)
            {
                return;
            }

            hasMembers = true;
            version = newVersion;
            var stamp = ++membershipStamp;
            var list = new PoolMember[members.Count];
            var ids = new string[members.Count];
            var i = 0;
            foreach (var id in members)
            {
                if (!known.TryGetValue(id, out var member))
                {
                    member = new PoolMember(id);
                    known.Add(id, member);
                }

                member.MembershipStamp = stamp;
                member.IsMember = true;
                list[i] = member;
                ids[i] = id;
                i++;
            }

            // A removed member leaves the free index now; a held or cooling one leaves the expiry
            // index when released or expired, because MakeFree puts back current members only.
            foreach (var member in current)
            {
                if (member.MembershipStamp != stamp)
                {
                    member.IsMember = false;
                    member.State = null;
                }
            }

            current = list;
            currentIds = new ReadOnlyCollection<string>(ids);
            RebuildFreeIndex();
        }
    }

    public IAsyncDisposable Subscribe(Action onReleased)
    {
        lock (gate)
        {
            subscribers = [.. subscribers, onReleased];
        }

        return new ReleaseSubscription(this, onReleased);
    }

    internal void Unsubscribe(Action onReleased)
    {
        lock (gate)
        {
            var index = Array.IndexOf(subscribers, onReleased);
            if (index >= 0)
            {
                subscribers = [.. subscribers.AsSpan(0, index), .. subscribers.AsSpan(index + 1)];
            }
        }
    }

    /// <summary>Sizes of the two indexes, for tests that check a removed member left them.</summary>
    internal (int Free, int Busy) IndexSizes
    {
        get
        {
            lock (gate)
            {
                return (free.Count, busy.Count);
            }
        }
    }

    internal void NotifyReleased()
    {
        var current = Volatile.Read(ref subscribers);
        foreach (var onReleased in current)
        {
            try
            {
                onReleased();
            }
#pragma warning disable CA1031 // A subscriber's fault must not turn a done release into an error.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private static bool IsLiveHolder(PoolMember member, string token, long nowTicks) =>
        member.Status == LeaseStatus.Held
        && member.ExpiresAtTicks > nowTicks
        && string.Equals(member.Token, token, StringComparison.Ordinal);

    // Under the gate, so the check and the claim are one step. A pool object without a member list
    // (only subscribed to) is as unknown as a missing one.
    private bool IsOutdated(long membersVersion, [NotNullWhen(true)] out PoolMembersOutdatedException? outdated)
    {
        outdated = membersVersion != AnyVersion && (!hasMembers || version < membersVersion)
            ? new PoolMembersOutdatedException(name, hasMembers ? version : null, membersVersion)
            : null;
        return outdated is not null;
    }

    private Lease Claim(PoolMember member, DateTimeOffset now, TimeSpan ttl)
    {
        var token = OwnerTokens.Create();
        var expiresAt = now + ttl;
        member.Status = LeaseStatus.Held;
        member.Token = token;
        member.Fencing = Fencing.Next(member.Fencing, now);
        member.Sequence = ++lastSequence;
        member.LastAcquiredTicks = now.UtcTicks;
        member.ExpiresAtTicks = expiresAt.UtcTicks;
        busy.Push(member, member.ExpiresAtTicks);
        return new Lease(member.Id, token, member.Fencing, expiresAt) { Pool = name };
    }

    private void ReclaimExpired(long nowTicks)
    {
        while (busy.Count > 0 && busy.MinKey <= nowTicks)
        {
            MakeFree(busy.Pop());
        }
    }

    // An expired lease or cooldown becomes free before anyone looks at it.
    private void Normalize(PoolMember member, long nowTicks)
    {
        if (member.Status != LeaseStatus.Free && member.ExpiresAtTicks <= nowTicks)
        {
            busy.Remove(member);
            MakeFree(member);
        }
    }

    // Caller has taken the member out of the expiry index. Its Sequence is untouched, so it
    // returns at its old LRU position; a removed member is not put back.
    private void MakeFree(PoolMember member)
    {
        member.Status = LeaseStatus.Free;
        member.Token = null;
        if (member.IsMember)
        {
            free.Push(member, member.Sequence);
        }
    }

    // Never-acquired members rank before all others, in ordinal id order, as negative sequences.
    private void RebuildFreeIndex()
    {
        var neverAcquired = new List<PoolMember>();
        var freeMembers = new List<PoolMember>(current.Length);
        foreach (var member in current)
        {
            if (!member.HasBeenAcquired)
            {
                neverAcquired.Add(member);
            }

            if (member.Status == LeaseStatus.Free)
            {
                freeMembers.Add(member);
            }
        }

        neverAcquired.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        for (var i = 0; i < neverAcquired.Count; i++)
        {
            neverAcquired[i].Sequence = i - neverAcquired.Count;
        }

        free.Rebuild(freeMembers, static member => member.Sequence);
    }

    private void NotifyWhenCooled(TimeSpan cooldown)
    {
        if (Volatile.Read(ref subscribers).Length > 0)
        {
            CooldownWake.Schedule(this, time, cooldown);
        }
    }
}
