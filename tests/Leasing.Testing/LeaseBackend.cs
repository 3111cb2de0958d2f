namespace Leasing.Testing;

/// <summary>
/// One backend under test, created per test by a backend's test project. The conformance suites
/// use only this: stores over the backend, the clock the library should use, and a way to let
/// backend time pass (FakeTimeProvider.Advance in memory; a real wait on servers, whose clocks no
/// fake can move).
/// </summary>
public abstract class LeaseBackend : IAsyncDisposable
{
    /// <summary>A short name for messages ("memory", "redis", "sqlite", "postgres").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// A lease store over the backend. Each call gives a new store object over the same data, as
    /// a second app instance would have: tests that need "another replica" call it twice.
    /// </summary>
    public abstract ILeaseStore CreateStore();

    /// <summary>The clock to hand to ChannelPool, DistributedLock and friends.</summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>True when <see cref="PassAsync"/> moves a fake clock (no real waiting).</summary>
    public abstract bool IsTimeVirtual { get; }

    /// <summary>
    /// The unit of lease time for tests: long enough that a lease taken now is surely still held
    /// a few round trips later, short enough to wait out on a real server.
    /// </summary>
    public abstract TimeSpan Ttl { get; }

    /// <summary>Lets <paramref name="duration"/> of backend time pass.</summary>
    public abstract ValueTask PassAsync(TimeSpan duration);

    /// <summary>Releases what the backend holds (connections, files).</summary>
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
