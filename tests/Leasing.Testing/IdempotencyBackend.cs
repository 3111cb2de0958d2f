namespace Leasing.Testing;

/// <summary>
/// One idempotency backend under test, created per test by a backend's test project. The
/// idempotency suites use only this: stores over the backend, the clock the library should use,
/// and a way to let backend time pass (FakeTimeProvider.Advance in memory; a real wait on servers).
/// </summary>
public abstract class IdempotencyBackend : IAsyncDisposable
{
    /// <summary>A short name for messages ("memory", "redis", "sqlite", "postgres").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// An idempotency store over the backend. Each call gives a new store object over the same
    /// data, as a second app instance would have: tests that need "another instance" call it twice.
    /// </summary>
    public abstract IIdempotencyStore CreateStore();

    /// <summary>The clock to hand to the IdempotentExecutor.</summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>True when <see cref="PassAsync"/> moves a fake clock (no real waiting).</summary>
    public abstract bool IsTimeVirtual { get; }

    /// <summary>
    /// The unit of lease time for tests: long enough that a claim taken now is surely still held a
    /// few round trips later, short enough to wait out on a real server.
    /// </summary>
    public abstract TimeSpan Ttl { get; }

    /// <summary>Whether the stores implement <see cref="IIdempotencyCompletionSource"/> (default true).</summary>
    public virtual bool SignalsCompletion => true;

    /// <summary>Lets <paramref name="duration"/> of backend time pass.</summary>
    public abstract ValueTask PassAsync(TimeSpan duration);

    /// <summary>Releases what the backend holds (connections, files).</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
