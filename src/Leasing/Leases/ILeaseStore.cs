namespace Leasing;

/// <summary>
/// A backend that grants time-bounded, token-checked leases on single keys and on members of
/// named pools. Every call is one atomic step on the backend (one round trip on servers).
/// </summary>
/// <remarks>
/// <para>Bad input (null, empty or whitespace keys, keys over 512 UTF-8 bytes, a ttl that is not
/// positive or exceeds one day, duplicate or empty members) throws <see cref="ArgumentException"/>
/// before any I/O. A backend that cannot be reached throws <see cref="LeaseStoreUnavailableException"/>
/// within the caller's cancellation; it never reports an outage as "busy".</para>
/// <para>Pool members and single keys live in separate namespaces: a lock on key "a" and member
/// "a" of a pool never collide.</para>
/// </remarks>
public interface ILeaseStore
{
    /// <summary>
    /// The backend's name in telemetry tags (<see cref="LeasingTelemetry.BackendTag"/>) and health data:
    /// <c>memory</c>, <c>redis</c>, <c>sqlite</c> or <c>postgresql</c> for the library's stores. A store
    /// that does not name itself (a decorator, a backend of your own) is named after its type: lower
    /// case, without a <c>LeaseStore</c>/<c>IdempotencyStore</c>/<c>Store</c> suffix.
    /// </summary>
    string BackendName => LeasingTelemetry.BackendOf(this);

    /// <summary>Acquires a single key (a lock) for <paramref name="ttl"/>.</summary>
    /// <param name="key">The key to lease.</param>
    /// <param name="ttl">How long the lease lasts unless renewed (0 &lt; ttl &lt;= 1 day).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease, or <see langword="null"/> when the key is held or cooling down.</returns>
    ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Extends a lease that is still ours to backend now + <paramref name="ttl"/>, compared on its token.</summary>
    /// <param name="lease">The lease to renew (a single key or a pool member).</param>
    /// <param name="ttl">The new time to live from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The renewed lease (same token and fencing token), or <see langword="null"/> when it was lost; an expired lease is never re-created.</returns>
    ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Releases a lease that is still ours.</summary>
    /// <param name="lease">The lease to release.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when released; <see langword="false"/> when it was no longer ours (nothing changed then).</returns>
    ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases a lease into a cooldown: the key stays blocked until backend now + <paramref name="cooldown"/>,
    /// then becomes free (a pool member at its old least-recently-used position). Applies when the token
    /// still matches or the key is free; the token is dead afterwards.
    /// </summary>
    /// <param name="lease">The lease to release.</param>
    /// <param name="cooldown">How long the key stays blocked (0 &lt; cooldown &lt;= 1 day).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the key is now cooling down; <see langword="false"/> when someone else holds it (nothing changed).</returns>
    ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default);

    /// <summary>Reads the state of several single keys in one round trip.</summary>
    /// <param name="keys">The keys to inspect.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One state per key, in the order given.</returns>
    ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the members of a pool. Applied only when <paramref name="version"/> is at least the stored
    /// version (equal: last writer wins), so an old replica cannot revert a newer list. A removed member
    /// keeps its fencing counter, can still be renewed and released while held, and is never handed out again.
    /// </summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="members">The members: non-empty, no duplicates, each a valid key.</param>
    /// <param name="version">The version of this member list.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the list is stored (or ignored as older).</returns>
    ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default);

    /// <summary>Reads the current members of a pool.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The members, empty when the pool is unknown.</returns>
    ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically picks the least-recently-acquired free member of <paramref name="pool"/> and claims it.
    /// In memory and on Redis the pick is O(log N) however full the pool is; the SQL backends walk an
    /// index in LRU order past held and cooling members. An expired holder's member is acquirable again.
    /// </summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="ttl">How long the lease lasts unless renewed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease (with <see cref="Lease.Pool"/> set), or <see langword="null"/> when every member is held or cooling down.</returns>
    ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Claims one named member of a pool.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="member">The member id.</param>
    /// <param name="ttl">How long the lease lasts unless renewed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease, or <see langword="null"/> when the member is busy or not a member.</returns>
    ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="TryAcquireLeastRecentlyUsedAsync(string, TimeSpan, CancellationToken)"/>, checking in the
    /// same atomic step that the backend holds the caller's member list: when it does not know the pool
    /// (its data was lost) or holds an older version than <paramref name="membersVersion"/>, nothing is
    /// claimed and <see cref="PoolMembersOutdatedException"/> is thrown, so the caller writes its list
    /// again (<see cref="SetPoolMembersAsync"/>) and retries. No extra round trip.
    /// </summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="ttl">How long the lease lasts unless renewed.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease (with <see cref="Lease.Pool"/> set), or <see langword="null"/> when every member is held or cooling down.</returns>
    /// <exception cref="PoolMembersOutdatedException">The backend does not know the pool, or holds an older member list.</exception>
    /// <remarks>The default implementation does not check (it calls the overload without a version): a backend that can lose its data overrides it.</remarks>
    ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        TryAcquireLeastRecentlyUsedAsync(pool, ttl, cancellationToken);

    /// <summary>
    /// As <see cref="TryAcquirePoolMemberAsync(string, string, TimeSpan, CancellationToken)"/>, with the member-list
    /// check of <see cref="TryAcquireLeastRecentlyUsedAsync(string, TimeSpan, long, CancellationToken)"/>.
    /// </summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="member">The member id.</param>
    /// <param name="ttl">How long the lease lasts unless renewed.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease, or <see langword="null"/> when the member is busy or not a member.</returns>
    /// <exception cref="PoolMembersOutdatedException">The backend does not know the pool, or holds an older member list.</exception>
    /// <remarks>The default implementation does not check (it calls the overload without a version): a backend that can lose its data overrides it.</remarks>
    ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        TryAcquirePoolMemberAsync(pool, member, ttl, cancellationToken);

    /// <summary>Reads the state of every member of a pool in one round trip.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One state per current member.</returns>
    ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default);

    /// <summary>Operators only: frees a key (or pool member) whoever holds it. Its fencing counter still grows on the next acquire.</summary>
    /// <param name="key">The key, or the member id when <paramref name="pool"/> is given.</param>
    /// <param name="pool">The pool, or <see langword="null"/> for a single key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when a lease or cooldown was removed.</returns>
    ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores the fenced state of the lease's key (a single key, or a pool member when <see cref="Lease.Pool"/>
    /// is set), in one atomic step with the check that <paramref name="lease"/> is live: its owner token is the
    /// key's current one and it has not expired on the backend's clock. A holder that lost its lease (paused past
    /// its expiry, the key since acquired by another) can therefore never overwrite what the next holder wrote.
    /// </summary>
    /// <param name="lease">The lease under which the state is written.</param>
    /// <param name="state">The bytes to store (at most <see cref="LeaseArguments.MaxStateBytes"/>; may be empty).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see langword="true"/> when stored (with the lease's fencing token and the backend time); <see langword="false"/>
    /// when the lease is not live, or the member is no longer in the pool's member list: nothing changed then.
    /// </returns>
    /// <remarks>
    /// State survives release, expiry, cooldown and force release; a pool member's state is deleted when the
    /// member leaves the pool's member list (a member added again starts without state). One round trip.
    /// </remarks>
    ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default);

    /// <summary>Reads the fenced state of a single key or pool member, held or not.</summary>
    /// <param name="key">The key, or the member id when <paramref name="pool"/> is given.</param>
    /// <param name="pool">The pool, or <see langword="null"/> for a single key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state with the fencing token of the write that stored it, or <see langword="null"/> when none was stored.</returns>
    ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases a pool member's lease and, when it was still ours, claims the least-recently-used free member
    /// of the same pool (it may be the one just released) under a new owner token and fencing token, with the
    /// member-list check of <see cref="TryAcquireLeastRecentlyUsedAsync(string, TimeSpan, long, CancellationToken)"/>:
    /// a hand-over from one holder to the next waiting caller. The default implementation makes the two calls;
    /// a backend that can do both in one atomic step overrides it (one round trip instead of two).
    /// </summary>
    /// <param name="lease">The pool member's lease to release (<see cref="Lease.Pool"/> set).</param>
    /// <param name="ttl">How long the new lease lasts unless renewed.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the lease was released, the lease taken next (or <see langword="null"/>), and whether the member list was outdated.</returns>
    /// <remarks>
    /// A release that finds the lease no longer ours claims nothing. Once the release happened, a failure of
    /// the claim (the backend unreachable) is reported as no lease acquired, never as a failed release. A
    /// token cancelled between the two steps (where they are two calls) throws
    /// <see cref="OperationCanceledException"/> after the release happened: pass <see cref="CancellationToken.None"/>
    /// (as <see cref="ChannelPool"/> does) when the answer must say what was released.
    /// </remarks>
    /// <exception cref="ArgumentException">The lease is not a pool member's, or an argument breaks a rule.</exception>
    async ValueTask<ReleaseAndAcquireResult> ReleaseAndAcquireLeastRecentlyUsedAsync(Lease lease, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidPoolLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        if (!await ReleaseAsync(lease, cancellationToken).ConfigureAwait(false))
        {
            return new ReleaseAndAcquireResult(false, null, false);
        }

        try
        {
            return new ReleaseAndAcquireResult(true, await TryAcquireLeastRecentlyUsedAsync(lease.Pool!, ttl, membersVersion, cancellationToken).ConfigureAwait(false), false);
        }
        catch (PoolMembersOutdatedException)
        {
            return new ReleaseAndAcquireResult(true, null, true);
        }
        catch (LeaseStoreUnavailableException)
        {
            return new ReleaseAndAcquireResult(true, null, false);
        }
    }
}
