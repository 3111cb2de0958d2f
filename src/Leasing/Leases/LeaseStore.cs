namespace Leasing;

/// <summary>
/// The base of every <see cref="ILeaseStore"/> backend: its public members check the arguments with the
/// rules of <see cref="LeaseArguments"/> and the caller's cancellation, once for all backends, then call
/// the protected <c>...CoreAsync</c> methods, which a backend implements with storage only.
/// </summary>
/// <remarks>
/// <para>Bad input throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>)
/// from the call itself, before any I/O, even when the token is already cancelled. An already cancelled
/// token, with valid arguments, returns a cancelled task and the backend is not called.</para>
/// <para>The <c>...CoreAsync</c> methods receive arguments that passed these checks (a
/// <see cref="ReleaseAndAcquireLeastRecentlyUsedCoreAsync"/> lease always has its <see cref="Lease.Pool"/>).
/// The members with a default behaviour in <see cref="ILeaseStore"/> (the member-list check, the hand-over)
/// are virtual core methods: a backend overrides only what it does better.</para>
/// </remarks>
public abstract class LeaseStore : ILeaseStore
{
    /// <summary>Creates the store.</summary>
    protected LeaseStore()
    {
    }

    /// <inheritdoc />
    public abstract string BackendName { get; }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : TryAcquireCoreAsync(key, ttl, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : RenewCoreAsync(lease, ttl, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : ReleaseCoreAsync(lease, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(cooldown, nameof(cooldown));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : ReleaseWithCooldownCoreAsync(lease, cooldown, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKeys(keys, nameof(keys));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<IReadOnlyList<LeaseState>>(cancellationToken) : InspectCoreAsync(keys, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidMembers(members, nameof(members));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : SetPoolMembersCoreAsync(pool, members, version, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<IReadOnlyList<string>>(cancellationToken) : GetPoolMembersCoreAsync(pool, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, membersVersion, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidKey(member, nameof(member));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : TryAcquirePoolMemberCoreAsync(pool, member, ttl, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidKey(member, nameof(member));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<Lease?>(cancellationToken) : TryAcquirePoolMemberCoreAsync(pool, member, ttl, membersVersion, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<IReadOnlyList<LeaseState>>(cancellationToken) : InspectPoolCoreAsync(pool, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidKeyOrMember(key, pool);
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : ForceReleaseCoreAsync(key, pool, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidState(state, nameof(state));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : WriteStateCoreAsync(lease, state, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidKeyOrMember(key, pool);
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<LeaseStateValue?>(cancellationToken) : ReadStateCoreAsync(key, pool, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<ReleaseAndAcquireResult> ReleaseAndAcquireLeastRecentlyUsedAsync(Lease lease, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidPoolLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<ReleaseAndAcquireResult>(cancellationToken)
            : ReleaseAndAcquireLeastRecentlyUsedCoreAsync(lease, ttl, membersVersion, cancellationToken);
    }

    /// <summary>Acquires a single key; see <see cref="ILeaseStore.TryAcquireAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The lease, or <see langword="null"/> when the key is held or cooling down.</returns>
    protected abstract ValueTask<Lease?> TryAcquireCoreAsync(string key, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Renews a lease; see <see cref="ILeaseStore.RenewAsync"/>.</summary>
    /// <param name="lease">A valid lease (a single key or a pool member).</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The renewed lease, or <see langword="null"/> when it was lost.</returns>
    protected abstract ValueTask<Lease?> RenewCoreAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Releases a lease; see <see cref="ILeaseStore.ReleaseAsync"/>.</summary>
    /// <param name="lease">A valid lease.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="true"/> when released.</returns>
    protected abstract ValueTask<bool> ReleaseCoreAsync(Lease lease, CancellationToken cancellationToken);

    /// <summary>Releases a lease into a cooldown; see <see cref="ILeaseStore.ReleaseWithCooldownAsync"/>.</summary>
    /// <param name="lease">A valid lease.</param>
    /// <param name="cooldown">A valid cooldown.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="true"/> when the key is now cooling down.</returns>
    protected abstract ValueTask<bool> ReleaseWithCooldownCoreAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken);

    /// <summary>Reads the state of single keys; see <see cref="ILeaseStore.InspectAsync"/>.</summary>
    /// <param name="keys">Valid keys (possibly none).</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>One state per key, in the order given.</returns>
    protected abstract ValueTask<IReadOnlyList<LeaseState>> InspectCoreAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>Sets the members of a pool; see <see cref="ILeaseStore.SetPoolMembersAsync"/>.</summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="members">A valid member list: non-empty, distinct, each a valid key.</param>
    /// <param name="version">The version of this member list.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>A task that completes when the list is stored (or ignored as older).</returns>
    protected abstract ValueTask SetPoolMembersCoreAsync(string pool, IReadOnlyCollection<string> members, long version, CancellationToken cancellationToken);

    /// <summary>Reads the members of a pool; see <see cref="ILeaseStore.GetPoolMembersAsync"/>.</summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The members, empty when the pool is unknown.</returns>
    protected abstract ValueTask<IReadOnlyList<string>> GetPoolMembersCoreAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Claims the least-recently-used free member of a pool, without the member-list check; see <see cref="ILeaseStore.TryAcquireLeastRecentlyUsedAsync(string, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The lease, or <see langword="null"/> when every member is held or cooling down.</returns>
    protected abstract ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the least-recently-used free member of a pool with the member-list check; see
    /// <see cref="ILeaseStore.TryAcquireLeastRecentlyUsedAsync(string, TimeSpan, long, CancellationToken)"/>.
    /// </summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The lease, or <see langword="null"/> when every member is held or cooling down.</returns>
    /// <exception cref="PoolMembersOutdatedException">The backend does not know the pool, or holds an older member list.</exception>
    /// <remarks>The default does not check (it calls <see cref="TryAcquireLeastRecentlyUsedCoreAsync(string, TimeSpan, CancellationToken)"/>): a backend that can lose its data overrides it.</remarks>
    protected virtual ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken) =>
        TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, cancellationToken);

    /// <summary>Claims one named member of a pool, without the member-list check; see <see cref="ILeaseStore.TryAcquirePoolMemberAsync(string, string, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="member">A valid member id.</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The lease, or <see langword="null"/> when the member is busy or not a member.</returns>
    protected abstract ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Claims one named member of a pool with the member-list check; see
    /// <see cref="ILeaseStore.TryAcquirePoolMemberAsync(string, string, TimeSpan, long, CancellationToken)"/>.
    /// </summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="member">A valid member id.</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The lease, or <see langword="null"/> when the member is busy or not a member.</returns>
    /// <exception cref="PoolMembersOutdatedException">The backend does not know the pool, or holds an older member list.</exception>
    /// <remarks>The default does not check (it calls <see cref="TryAcquirePoolMemberCoreAsync(string, string, TimeSpan, CancellationToken)"/>): a backend that can lose its data overrides it.</remarks>
    protected virtual ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken) =>
        TryAcquirePoolMemberCoreAsync(pool, member, ttl, cancellationToken);

    /// <summary>Reads the state of every member of a pool; see <see cref="ILeaseStore.InspectPoolAsync"/>.</summary>
    /// <param name="pool">A valid pool name.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>One state per current member.</returns>
    protected abstract ValueTask<IReadOnlyList<LeaseState>> InspectPoolCoreAsync(string pool, CancellationToken cancellationToken);

    /// <summary>Frees a key or pool member whoever holds it; see <see cref="ILeaseStore.ForceReleaseAsync"/>.</summary>
    /// <param name="key">A valid key, or member id when <paramref name="pool"/> is given.</param>
    /// <param name="pool">A valid pool name, or <see langword="null"/> for a single key.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="true"/> when a lease or cooldown was removed.</returns>
    protected abstract ValueTask<bool> ForceReleaseCoreAsync(string key, string? pool, CancellationToken cancellationToken);

    /// <summary>Stores the fenced state of a live lease's key; see <see cref="ILeaseStore.WriteStateAsync"/>.</summary>
    /// <param name="lease">A valid lease.</param>
    /// <param name="state">The bytes to store (at most <see cref="LeaseArguments.MaxStateBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the lease is not live.</returns>
    protected abstract ValueTask<bool> WriteStateCoreAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken);

    /// <summary>Reads the fenced state of a key or pool member; see <see cref="ILeaseStore.ReadStateAsync"/>.</summary>
    /// <param name="key">A valid key, or member id when <paramref name="pool"/> is given.</param>
    /// <param name="pool">A valid pool name, or <see langword="null"/> for a single key.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The state, or <see langword="null"/> when none was stored.</returns>
    protected abstract ValueTask<LeaseStateValue?> ReadStateCoreAsync(string key, string? pool, CancellationToken cancellationToken);

    /// <summary>
    /// Releases a pool member's lease and, when it was still ours, claims the least-recently-used free member of
    /// the same pool; see <see cref="ILeaseStore.ReleaseAndAcquireLeastRecentlyUsedAsync"/>.
    /// </summary>
    /// <param name="lease">A valid pool member's lease (<see cref="Lease.Pool"/> set).</param>
    /// <param name="ttl">A valid ttl.</param>
    /// <param name="membersVersion">The version of the caller's member list (0 or more).</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>Whether the lease was released, the lease taken next (or <see langword="null"/>), and whether the member list was outdated.</returns>
    /// <remarks>
    /// The default makes the two calls (<see cref="ReleaseCoreAsync"/>, then, unless the token was cancelled
    /// meanwhile, <see cref="TryAcquireLeastRecentlyUsedCoreAsync(string, TimeSpan, long, CancellationToken)"/>);
    /// a backend that can do both in one atomic step overrides it.
    /// </remarks>
    protected virtual async ValueTask<ReleaseAndAcquireResult> ReleaseAndAcquireLeastRecentlyUsedCoreAsync(Lease lease, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!await ReleaseCoreAsync(lease, cancellationToken).ConfigureAwait(false))
        {
            return new ReleaseAndAcquireResult(false, null, false);
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ReleaseAndAcquireResult(true, await TryAcquireLeastRecentlyUsedCoreAsync(lease.Pool!, ttl, membersVersion, cancellationToken).ConfigureAwait(false), false);
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

    private static void ThrowIfInvalidKeyOrMember(string key, string? pool)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        if (pool is not null)
        {
            LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        }
    }
}
