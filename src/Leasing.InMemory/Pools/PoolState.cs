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

    private readonly Lock _gate = new();
    private readonly Dictionary<string, PoolMember> _known = new(StringComparer.Ordinal);
    private readonly IndexedMinHeap<PoolMember, FreeSlot> _free = new();
    private readonly IndexedMinHeap<PoolMember, ExpirySlot> _busy = new();
    private PoolMember[] _current = [];
    private ReadOnlyCollection<string> _currentIds = NoIds;
    private bool _hasMembers;
    private long _version;
    private long _lastSequence;
    private long _membershipStamp;
    private Action[] _subscribers = [];

    public string Name => name;

    public Lease? TryAcquireLeastRecentlyUsed(TimeSpan ttl, long membersVersion, out PoolMembersOutdatedException? outdated)
    {
        lock (_gate)
        {
            if (IsOutdated(membersVersion, out outdated))
            {
                return null;
            }

            var now = time.GetUtcNow();
            ReclaimExpired(now.UtcTicks);
            return _free.Count == 0 ? null : Claim(_free.Pop(), now, ttl);
        }
    }

    public Lease? TryAcquireMember(string id, TimeSpan ttl, long membersVersion, out PoolMembersOutdatedException? outdated)
    {
        lock (_gate)
        {
            if (IsOutdated(membersVersion, out outdated))
            {
                return null;
            }

            if (!_known.TryGetValue(id, out var member) || !member.IsMember)
            {
                return null;
            }

            var now = time.GetUtcNow();
            Normalize(member, now.UtcTicks);
            if (member.Status != LeaseStatus.Free)
            {
                return null;
            }

            _free.Remove(member);
            return Claim(member, now, ttl);
        }
    }

    public Lease? Renew(Lease lease, TimeSpan ttl)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (!_known.TryGetValue(lease.Key, out var member) || !IsLiveHolder(member, lease.Token, now.UtcTicks))
            {
                return null;
            }

            var expiresAt = now + ttl;
            member.ExpiresAtTicks = expiresAt.UtcTicks;
            _busy.ChangeKey(member, member.ExpiresAtTicks);
            return lease with { ExpiresAt = expiresAt };
        }
    }

    public bool WriteState(Lease lease, ReadOnlyMemory<byte> state)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (!_known.TryGetValue(lease.Key, out var member) || !member.IsMember || !IsLiveHolder(member, lease.Token, now.UtcTicks))
            {
                return false;
            }

            member.State = new LeaseStateValue(state.ToArray(), member.Fencing, now);
            return true;
        }
    }

    public LeaseStateValue? ReadState(string id)
    {
        lock (_gate)
        {
            return _known.TryGetValue(id, out var member) ? member.State : null;
        }
    }

    public bool Release(Lease lease)
    {
        lock (_gate)
        {
            if (!_known.TryGetValue(lease.Key, out var member) || !IsLiveHolder(member, lease.Token, time.GetUtcNow().UtcTicks))
            {
                return false;
            }

            _busy.Remove(member);
            MakeFree(member);
        }

        NotifyReleased();
        return true;
    }

    public bool ReleaseWithCooldown(Lease lease, TimeSpan cooldown)
    {
        lock (_gate)
        {
            if (!_known.TryGetValue(lease.Key, out var member))
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
                _free.Remove(member);
            }

            member.Status = LeaseStatus.CoolingDown;
            member.Token = null;
            member.ExpiresAtTicks = (now + cooldown).UtcTicks;
            if (IndexedMinHeap<PoolMember, ExpirySlot>.Contains(member))
            {
                _busy.ChangeKey(member, member.ExpiresAtTicks);
            }
            else
            {
                _busy.Push(member, member.ExpiresAtTicks);
            }
        }

        NotifyWhenCooled(cooldown);
        return true;
    }

    public bool ForceRelease(string id)
    {
        lock (_gate)
        {
            if (!_known.TryGetValue(id, out var member))
            {
                return false;
            }

            Normalize(member, time.GetUtcNow().UtcTicks);
            if (member.Status == LeaseStatus.Free)
            {
                return false;
            }

            _busy.Remove(member);
            MakeFree(member);
        }

        NotifyReleased();
        return true;
    }

    public IReadOnlyList<LeaseState> Inspect()
    {
        lock (_gate)
        {
            var nowTicks = time.GetUtcNow().UtcTicks;
            var states = new LeaseState[_current.Length];
            for (var i = 0; i < states.Length; i++)
            {
                var member = _current[i];
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
        lock (_gate)
        {
            return _currentIds;
        }
    }

    public void SetMembers(IReadOnlyCollection<string> members, long newVersion)
    {
        lock (_gate)
        {
            if (_hasMembers && newVersion < _version)
            {
                return;
            }

            _hasMembers = true;
            _version = newVersion;
            var stamp = ++_membershipStamp;
            var list = new PoolMember[members.Count];
            var ids = new string[members.Count];
            var i = 0;
            foreach (var id in members)
            {
                if (!_known.TryGetValue(id, out var member))
                {
                    member = new PoolMember(id);
                    _known.Add(id, member);
                }

                member.MembershipStamp = stamp;
                member.IsMember = true;
                list[i] = member;
                ids[i] = id;
                i++;
            }

            // A removed member leaves the free index now; a held or cooling one leaves the expiry
            // index when released or expired, because MakeFree puts back current members only.
            foreach (var member in _current)
            {
                if (member.MembershipStamp != stamp)
                {
                    member.IsMember = false;
                    member.State = null;
                }
            }

            _current = list;
            _currentIds = new ReadOnlyCollection<string>(ids);
            RebuildFreeIndex();
        }
    }

    public IAsyncDisposable Subscribe(Action onReleased)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers, onReleased];
        }

        return new ReleaseSubscription(this, onReleased);
    }

    internal void Unsubscribe(Action onReleased)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_subscribers, onReleased);
            if (index >= 0)
            {
                _subscribers = [.. _subscribers.AsSpan(0, index), .. _subscribers.AsSpan(index + 1)];
            }
        }
    }

    /// <summary>Sizes of the two indexes, for tests that check a removed member left them.</summary>
    internal (int Free, int Busy) IndexSizes
    {
        get
        {
            lock (_gate)
            {
                return (_free.Count, _busy.Count);
            }
        }
    }

    internal void NotifyReleased()
    {
        var current = Volatile.Read(ref _subscribers);
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
        outdated = membersVersion != AnyVersion && (!_hasMembers || _version < membersVersion)
            ? new PoolMembersOutdatedException(name, _hasMembers ? _version : null, membersVersion)
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
        member.Sequence = ++_lastSequence;
        member.LastAcquiredTicks = now.UtcTicks;
        member.ExpiresAtTicks = expiresAt.UtcTicks;
        _busy.Push(member, member.ExpiresAtTicks);
        return new Lease(member.Id, token, member.Fencing, expiresAt) { Pool = name };
    }

    private void ReclaimExpired(long nowTicks)
    {
        while (_busy.Count > 0 && _busy.MinKey <= nowTicks)
        {
            MakeFree(_busy.Pop());
        }
    }

    // An expired lease or cooldown becomes free before anyone looks at it.
    private void Normalize(PoolMember member, long nowTicks)
    {
        if (member.Status != LeaseStatus.Free && member.ExpiresAtTicks <= nowTicks)
        {
            _busy.Remove(member);
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
            _free.Push(member, member.Sequence);
        }
    }

    // Never-acquired members rank before all others, in ordinal id order, as negative sequences.
    private void RebuildFreeIndex()
    {
        var neverAcquired = new List<PoolMember>();
        var freeMembers = new List<PoolMember>(_current.Length);
        foreach (var member in _current)
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

        _free.Rebuild(freeMembers, static member => member.Sequence);
    }

    private void NotifyWhenCooled(TimeSpan cooldown)
    {
        if (Volatile.Read(ref _subscribers).Length > 0)
        {
            CooldownWake.Schedule(this, time, cooldown);
        }
    }
}
