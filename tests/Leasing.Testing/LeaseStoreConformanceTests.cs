using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

/// <summary>
/// The <see cref="ILeaseStore"/> contract of docs/architecture.md#ileasestore, written once and run unchanged on every
/// backend: a backend's test project subclasses it and supplies <see cref="CreateBackendAsync"/>.
/// </summary>
/// <remarks>
/// Only the <see cref="ILeaseStore"/> contract and <see cref="LeaseBackend"/> are used, and every
/// test names its keys and pools with <see cref="Unique.Name"/>, so a shared real server is fine.
/// Time margins hold both on virtual time and on real servers with a short <see cref="LeaseBackend.Ttl"/>:
/// a lease taken with Ttl is checked as held at once, and <see cref="ExpireAsync"/> lets 1.5 Ttl pass
/// to expire it; leases that must not expire during a test use <see cref="LongTtl"/>.
/// The tests live in the Conformance folder, one partial file per part of the contract.
/// </remarks>
public abstract partial class LeaseStoreConformanceTests : IAsyncLifetime
{
    /// <summary>A lease that outlives any test.</summary>
    protected static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(5);

    /// <summary>Rounding allowed when comparing two backend timestamps (servers store milliseconds).</summary>
    protected static readonly TimeSpan TimeTolerance = TimeSpan.FromMilliseconds(5);

    private LeaseBackend? backend;
    private ILeaseStore? store;

    /// <summary>The backend under test, created per test.</summary>
    protected LeaseBackend Backend => backend ?? throw new InvalidOperationException("The backend is created in InitializeAsync.");

    /// <summary>A store over the backend.</summary>
    protected ILeaseStore Store => store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>The backend's unit of lease time.</summary>
    protected TimeSpan Ttl => Backend.Ttl;

    /// <summary>Creates the backend for one test; it is disposed after the test.</summary>
    protected abstract ValueTask<LeaseBackend> CreateBackendAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        backend = await CreateBackendAsync();
        store = backend.CreateStore();
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (backend is not null)
        {
            await backend.DisposeAsync();
        }
    }

    /// <summary>Lets enough backend time pass for a lease or cooldown of <see cref="Ttl"/> to run out.</summary>
    protected ValueTask ExpireAsync() => Backend.PassAsync(Ttl * 1.5);

    /// <summary>Creates a pool with <paramref name="count"/> members named m0, m1, ...</summary>
    protected async Task<(string Pool, string[] Members)> CreatePoolAsync(int count, long version = 0)
    {
        var pool = Unique.Name("pool");
        var members = Enumerable.Range(0, count).Select(i => $"m{i}").ToArray();
        await Store.SetPoolMembersAsync(pool, members, version);
        return (pool, members);
    }

    /// <summary>Acquires and asserts success.</summary>
    protected async Task<Lease> AcquireAsync(string key, TimeSpan ttl, ILeaseStore? via = null)
    {
        var lease = await (via ?? Store).TryAcquireAsync(key, ttl);
        lease.Should().NotBeNull($"key {key} should be free");
        return lease!;
    }

    /// <summary>Acquires a named pool member and asserts success.</summary>
    protected async Task<Lease> AcquireMemberAsync(string pool, string member, TimeSpan ttl, ILeaseStore? via = null)
    {
        var lease = await (via ?? Store).TryAcquirePoolMemberAsync(pool, member, ttl);
        lease.Should().NotBeNull($"member {member} of {pool} should be free");
        return lease!;
    }

    /// <summary>Acquires the least recently used member and asserts success.</summary>
    protected async Task<Lease> AcquireLruAsync(string pool, TimeSpan ttl, ILeaseStore? via = null)
    {
        var lease = await (via ?? Store).TryAcquireLeastRecentlyUsedAsync(pool, ttl);
        lease.Should().NotBeNull($"pool {pool} should have a free member");
        return lease!;
    }

    /// <summary>The state of one single key.</summary>
    protected async Task<LeaseState> InspectOneAsync(string key) => (await Store.InspectAsync([key])).Single();

    /// <summary>The state of one pool member.</summary>
    protected async Task<LeaseState> InspectMemberAsync(string pool, string member) =>
        (await Store.InspectPoolAsync(pool)).Single(state => state.Key == member);

    /// <summary>Asserts that each value exceeds the one before.</summary>
    protected static void ShouldStrictlyIncrease(IReadOnlyList<long> values)
    {
        for (var i = 1; i < values.Count; i++)
        {
            values[i].Should().BeGreaterThan(values[i - 1], $"fencing token #{i} must exceed #{i - 1} (all: {string.Join(", ", values)})");
        }
    }

    /// <summary>Runs <paramref name="count"/> calls at once on the thread pool, released together by one gate.</summary>
    protected static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await call(i);
        })).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(1));
    }
}
