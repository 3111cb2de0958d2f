namespace Leasing;

/// <summary>
/// One leased channel of a <see cref="ChannelPool"/>. Pass <see cref="FencingToken"/> to what the
/// work writes, stop the work when <see cref="LeaseLost"/> fires, and release (or dispose) when done.
/// </summary>
public sealed class ChannelLease : IAsyncDisposable
{
    private readonly ChannelPool _pool;
    private readonly LeaseMonitor _monitor;
    private readonly long _acquiredAt;
    private int _released;

    internal ChannelLease(ChannelPool pool, LeaseMonitor monitor, long acquiredAt)
    {
        _pool = pool;
        _monitor = monitor;
        _acquiredAt = acquiredAt;
    }

    /// <summary>The channel id.</summary>
    public string ChannelId => _monitor.Lease.Key;

    /// <summary>
    /// The fencing token of this lease: greater than every token issued before for this channel.
    /// Hand it to downstream systems so they can reject a holder that lost its lease.
    /// </summary>
    public long FencingToken => _monitor.Lease.FencingToken;

    /// <summary>When the lease expires on the backend's clock, as of the last renewal. Do not compare it with the local clock.</summary>
    public DateTimeOffset ExpiresAt => _monitor.Lease.ExpiresAt;

    /// <summary>
    /// Cancelled when a renewal finds the lease lost, or when the local deadline (last confirmed
    /// renew + lease duration - a margin) passes without a confirmed renew. Stop the work then.
    /// </summary>
    public CancellationToken LeaseLost => _monitor.LeaseLost;

    /// <summary>
    /// How long this lease is certainly still held, on the local clock: until its local deadline (the
    /// last confirmed acquire or renew was sent + the lease duration - 10 %), the moment <see cref="LeaseLost"/>
    /// fires unless a renewal moves it. <see cref="TimeSpan.Zero"/> once the deadline passed, the lease was
    /// found lost, or a release of it began (a release that failed leaves it held: it counts again). Safe to read from any thread; no round trip. Check it before starting work that must finish under this lease
    /// (a grant the pool took for a caller ahead that gave up may reach a later caller with less than a
    /// whole lease left).
    /// </summary>
    public TimeSpan TimeLeft => Volatile.Read(ref _released) != 0 ? TimeSpan.Zero : _monitor.TimeLeft;

    internal LeaseMonitor Monitor => _monitor;

    internal long AcquiredAt => _acquiredAt;

    /// <summary>Renews the lease now (AutoRenew does this every LeaseDuration/3 on its own).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when renewed; <see langword="false"/> when the lease was lost or released (LeaseLost fires when lost).</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the local deadline did not move.</exception>
    public async ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return false;
        }

        return await _monitor.RenewAsync(cancellationToken).ConfigureAwait(false) == LeaseCheck.Renewed;
    }

    /// <summary>
    /// Reads the fenced state of this channel (written by this or an earlier holder), with the fencing token of the
    /// lease that wrote it. One round trip; works whether or not the lease is still held.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="null"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public ValueTask<LeaseStateValue?> GetStateBytesAsync(CancellationToken cancellationToken = default) =>
        FencedState.GetBytesAsync(_pool.Store, _monitor, cancellationToken);

    /// <summary>Reads the fenced state of this channel as JSON of <typeparamref name="T"/> (System.Text.Json, default options).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="default"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="System.Text.Json.JsonException">The stored bytes are not JSON of <typeparamref name="T"/>.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(FencedState.ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(FencedState.ReflectionMessage)]
    public ValueTask<T?> GetStateAsync<T>(CancellationToken cancellationToken = default) =>
        FencedState.GetAsync<T>(_pool.Store, _monitor, cancellationToken);

    /// <summary>Reads the fenced state of this channel as JSON of <typeparamref name="T"/>, with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="typeInfo">The JSON metadata of <typeparamref name="T"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="default"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="System.Text.Json.JsonException">The stored bytes are not JSON of <typeparamref name="T"/>.</exception>
    public ValueTask<T?> GetStateAsync<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        FencedState.GetAsync(_pool.Store, _monitor, typeInfo, cancellationToken);

    /// <summary>
    /// Stores the fenced state of this channel, accepted by the backend only while this lease is live (its token the
    /// current one, not expired), checked in the same atomic step as the write: a holder that lost the lease
    /// (paused past its expiry while another took the channel) can never overwrite what the next holder wrote.
    /// </summary>
    /// <param name="state">The bytes (at most <see cref="LeaseArguments.MaxStateBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see langword="true"/> when stored; <see langword="false"/> when refused: the lease is lost (or was
    /// released, or the channel left the pool's member list); <see cref="LeaseLost"/> is then cancelled. No I/O once the lease is known lost or released.
    /// </returns>
    /// <exception cref="ArgumentException">The state is larger than <see cref="LeaseArguments.MaxStateBytes"/> (nothing is written).</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the write may or may not have been stored.</exception>
    public ValueTask<bool> TrySetStateBytesAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) =>
        FencedState.TrySetBytesAsync(_pool.Store, _monitor, Volatile.Read(ref _released) != 0, state, nameof(state), cancellationToken);

    /// <summary>As <see cref="TrySetStateBytesAsync"/>, storing <paramref name="value"/> as JSON (System.Text.Json, default options).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="value">The state.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when refused (<see cref="LeaseLost"/> is then cancelled).</returns>
    /// <exception cref="ArgumentException">The JSON is larger than <see cref="LeaseArguments.MaxStateBytes"/> (nothing is written).</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the write may or may not have been stored.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(FencedState.ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(FencedState.ReflectionMessage)]
    public ValueTask<bool> TrySetStateAsync<T>(T value, CancellationToken cancellationToken = default) =>
        FencedState.TrySetAsync(_pool.Store, _monitor, Volatile.Read(ref _released) != 0, value, cancellationToken);

    /// <summary>As <see cref="TrySetStateBytesAsync"/>, storing <paramref name="value"/> as JSON with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="value">The state.</param>
    /// <param name="typeInfo">The JSON metadata of <typeparamref name="T"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when refused (<see cref="LeaseLost"/> is then cancelled).</returns>
    /// <exception cref="ArgumentException">The JSON is larger than <see cref="LeaseArguments.MaxStateBytes"/> (nothing is written).</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the write may or may not have been stored.</exception>
    public ValueTask<bool> TrySetStateAsync<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        FencedState.TrySetAsync(_pool.Store, _monitor, Volatile.Read(ref _released) != 0, value, typeInfo, cancellationToken);

    /// <summary>
    /// Stops renewing and frees the channel for the next worker. While callers of this pool wait in this process,
    /// the release also takes the next channel for the first of them in the same call; that call is not
    /// cancelled by <paramref name="cancellationToken"/> once sent (a channel taken for a waiter must reach it).
    /// </summary>
    /// <param name="cancellationToken">Cancels the call before it is sent.</param>
    /// <returns><see langword="true"/> when released; <see langword="false"/> when it was no longer ours or was already released.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the call may be repeated, else the lease expires.</exception>
    public ValueTask<bool> ReleaseAsync(CancellationToken cancellationToken = default) =>
        EndAsync(cooldown: null, cancellationToken);

    /// <summary>
    /// For an uncertain outcome (a submission timed out: did it land?): stops renewing and keeps the
    /// channel blocked for <paramref name="cooldown"/> instead of handing it to the next worker.
    /// Applies when the lease is still ours or the channel is free; the lease is dead afterwards.
    /// </summary>
    /// <param name="cooldown">How long the channel stays blocked; default <see cref="ChannelPoolOptions.Cooldown"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the channel is cooling down; <see langword="false"/> when someone else holds it or it was already released.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The cooldown is not positive or exceeds one day.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public ValueTask<bool> ReleaseWithCooldownAsync(TimeSpan? cooldown = null, CancellationToken cancellationToken = default)
    {
        var value = cooldown ?? _pool.DefaultCooldown;
        LeaseArguments.ThrowIfInvalidTtl(value, nameof(cooldown));
        return EndAsync(value, cancellationToken);
    }

    /// <summary>Releases the lease if it is still held; idempotent. A failure to reach the backend is logged, and the lease then expires on its own.</summary>
    /// <returns>A task that completes when the lease is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return;
        }

        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException)
        {
            _pool.OnReleaseAtDisposeFailed(this, e);
        }
    }

    /// <summary>Describes the lease without its owner token.</summary>
    /// <returns>The pool, channel, fencing token and expiry.</returns>
    public override string ToString() => _monitor.Lease.ToString();

    private async ValueTask<bool> EndAsync(TimeSpan? cooldown, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        var lease = _monitor.Lease;
        try
        {
            await _monitor.StopRenewingAsync().ConfigureAwait(false);
            var (released, handedOn) = cooldown is { } value
                ? (await _pool.Store.ReleaseWithCooldownAsync(lease, value, cancellationToken).ConfigureAwait(false), false)
                : await _pool.ReleaseAsync(lease, cancellationToken).ConfigureAwait(false);
            await _monitor.StopAsync().ConfigureAwait(false);
            _pool.OnReleased(this, released, cooldown, handedOn);
            return released;
        }
        catch
        {
            // Not released: the caller may try again; the lease otherwise expires (LeaseLost fires at the deadline).
            Volatile.Write(ref _released, 0);
            throw;
        }
    }
}
