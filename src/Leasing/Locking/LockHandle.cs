namespace Leasing;

/// <summary>
/// A held <see cref="DistributedLock"/>: the caller is the single writer for <see cref="Key"/> until it
/// releases (or disposes) the handle. Pass <see cref="FencingToken"/> to what the work writes and stop
/// the work when <see cref="LeaseLost"/> fires.
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly DistributedLock _owner;
    private readonly LeaseMonitor _monitor;
    private int _released;

    internal LockHandle(DistributedLock owner, LeaseMonitor monitor, LockHolder holder)
    {
        _owner = owner;
        _monitor = monitor;
        Holder = holder;
    }

    /// <summary>The locked key.</summary>
    public string Key => _monitor.Lease.Key;

    /// <summary>The fencing token of this lock: greater than every token issued before for the key.</summary>
    public long FencingToken => _monitor.Lease.FencingToken;

    /// <summary>When the lease expires on the backend's clock, as of the last renewal. Do not compare it with the local clock.</summary>
    public DateTimeOffset ExpiresAt => _monitor.Lease.ExpiresAt;

    /// <summary>
    /// Cancelled when a renewal finds the lease lost (taken away), or when the local deadline (last
    /// confirmed renew + lease duration - a margin) passes unconfirmed: stop the work then.
    /// </summary>
    public CancellationToken LeaseLost => _monitor.LeaseLost;

    internal LockHolder Holder { get; }

    /// <summary>
    /// How long this lease is certainly still held, on the local clock: until its local deadline (the
    /// last confirmed acquire or renew was sent + the lease duration - 10 %), the moment <see cref="LeaseLost"/>
    /// fires unless a renewal moves it. <see cref="TimeSpan.Zero"/> once the deadline passed, the lease was
    /// found lost, or a release of it began. Safe to read from any thread; no round trip. Check it before starting work that must finish under this lock.
    /// </summary>
    public TimeSpan TimeLeft => Volatile.Read(ref _released) != 0 ? TimeSpan.Zero : _monitor.TimeLeft;

    internal LeaseMonitor Monitor => _monitor;

    /// <summary>
    /// Reads the fenced state of this key (written by this or an earlier holder), with the fencing token of the
    /// lease that wrote it. One round trip; works whether or not the lease is still held.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="null"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public ValueTask<LeaseStateValue?> GetStateBytesAsync(CancellationToken cancellationToken = default) =>
        FencedState.GetBytesAsync(_owner.Store, _monitor, cancellationToken);

    /// <summary>Reads the fenced state of this key as JSON of <typeparamref name="T"/> (System.Text.Json, default options).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="default"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="System.Text.Json.JsonException">The stored bytes are not JSON of <typeparamref name="T"/>.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(FencedState.ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(FencedState.ReflectionMessage)]
    public ValueTask<T?> GetStateAsync<T>(CancellationToken cancellationToken = default) =>
        FencedState.GetAsync<T>(_owner.Store, _monitor, cancellationToken);

    /// <summary>Reads the fenced state of this key as JSON of <typeparamref name="T"/>, with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="typeInfo">The JSON metadata of <typeparamref name="T"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state, or <see langword="default"/> when none was ever stored.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="System.Text.Json.JsonException">The stored bytes are not JSON of <typeparamref name="T"/>.</exception>
    public ValueTask<T?> GetStateAsync<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        FencedState.GetAsync(_owner.Store, _monitor, typeInfo, cancellationToken);

    /// <summary>
    /// Stores the fenced state of this key, accepted by the backend only while this lease is live (its token the
    /// current one, not expired), checked in the same atomic step as the write: a holder that lost the lease
    /// (paused past its expiry while another took the key) can never overwrite what the next holder wrote.
    /// </summary>
    /// <param name="state">The bytes (at most <see cref="LeaseArguments.MaxStateBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see langword="true"/> when stored; <see langword="false"/> when refused: the lease is lost (or was
    /// released); <see cref="LeaseLost"/> is then cancelled. No I/O once the lease is known lost or released.
    /// </returns>
    /// <exception cref="ArgumentException">The state is larger than <see cref="LeaseArguments.MaxStateBytes"/> (nothing is written).</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the write may or may not have been stored.</exception>
    public ValueTask<bool> TrySetStateBytesAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) =>
        FencedState.TrySetBytesAsync(_owner.Store, _monitor, Volatile.Read(ref _released) != 0, state, nameof(state), cancellationToken);

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
        FencedState.TrySetAsync(_owner.Store, _monitor, Volatile.Read(ref _released) != 0, value, cancellationToken);

    /// <summary>As <see cref="TrySetStateBytesAsync"/>, storing <paramref name="value"/> as JSON with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The type of the state.</typeparam>
    /// <param name="value">The state.</param>
    /// <param name="typeInfo">The JSON metadata of <typeparamref name="T"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when refused (<see cref="LeaseLost"/> is then cancelled).</returns>
    /// <exception cref="ArgumentException">The JSON is larger than <see cref="LeaseArguments.MaxStateBytes"/> (nothing is written).</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the write may or may not have been stored.</exception>
    public ValueTask<bool> TrySetStateAsync<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        FencedState.TrySetAsync(_owner.Store, _monitor, Volatile.Read(ref _released) != 0, value, typeInfo, cancellationToken);

    /// <summary>Stops renewing and releases the lock.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when released; <see langword="false"/> when it was no longer ours or was already released.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the lease expires on its own.</exception>
    public async ValueTask<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        return await _owner.ReleaseAsync(this, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the lock if still held; idempotent. A failure to reach the backend is logged, and the lease then expires on its own.</summary>
    /// <returns>A task that completes when the lock is released.</returns>
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
        catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException or TimeoutException)
        {
            _owner.OnReleaseAtDisposeFailed(this, e);
        }
    }

    /// <summary>Describes the lock without its owner token.</summary>
    /// <returns>The key, fencing token and expiry.</returns>
    public override string ToString() => _monitor.Lease.ToString();
}
