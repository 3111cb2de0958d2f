using BenchmarkDotNet.Attributes;

namespace Leasing.Benchmarks.Suites;

/// <summary>
/// Each <see cref="ILeaseStore"/> operation on one backend, one caller at a time. The baseline is
/// the backend's physical limit for a pair (two raw round trips on a server), so the Ratio column
/// reads as "round trips' worth" of cost. Subclasses supply the store and the baseline.
/// </summary>
[MemoryDiagnoser]
public abstract class LeaseStoreBenchmark
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];
    private string[] _keys = null!;
    private string _pool = null!;
    private Lease _held = null!;

    /// <summary>The store under test.</summary>
    protected ILeaseStore Store { get; private set; } = null!;

    /// <summary>A unique prefix for this run's keys and pools.</summary>
    protected string RunId => _run;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        Store = await CreateStoreAsync();
        _pool = $"bench-{_run}-pool";
        _keys = [.. Enumerable.Range(0, 10).Select(i => $"bench-{_run}-key-{i}")];
        await Store.SetPoolMembersAsync(_pool, [.. Enumerable.Range(0, 100).Select(i => $"ch-{i}")]);
        _held = await Store.TryAcquireAsync($"bench-{_run}-held", TimeSpan.FromHours(1)) ?? throw new InvalidOperationException("held key busy");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await Store.ReleaseAsync(_held);
        await DisposeStoreAsync();
    }

    [Benchmark(Baseline = true, Description = "baseline: raw pair")]
    public ValueTask RawPair() => RawPairAsync();

    [Benchmark(Description = "TryAcquire+Release (key)")]
    public async Task AcquireRelease()
    {
        var lease = await Store.TryAcquireAsync(_keys[0], Ttl) ?? throw new InvalidOperationException("key busy");
        await Store.ReleaseAsync(lease);
    }

    [Benchmark(Description = "Renew")]
    public async Task Renew() => _ = await Store.RenewAsync(_held, TimeSpan.FromHours(1)) ?? throw new InvalidOperationException("lease lost");

    [Benchmark(Description = "TryAcquireLeastRecentlyUsed+Release")]
    public async Task AcquireLeastRecentlyUsedRelease()
    {
        var lease = await Store.TryAcquireLeastRecentlyUsedAsync(_pool, Ttl) ?? throw new InvalidOperationException("pool empty");
        await Store.ReleaseAsync(lease);
    }

    [Benchmark(Description = "TryAcquirePoolMember+Release")]
    public async Task AcquirePoolMemberRelease()
    {
        var lease = await Store.TryAcquirePoolMemberAsync(_pool, "ch-7", Ttl) ?? throw new InvalidOperationException("member busy");
        await Store.ReleaseAsync(lease);
    }

    [Benchmark(Description = "Inspect 10 keys")]
    public ValueTask<IReadOnlyList<LeaseState>> Inspect() => Store.InspectAsync(_keys);

    [Benchmark(Description = "InspectPool 100 members")]
    public ValueTask<IReadOnlyList<LeaseState>> InspectPool() => Store.InspectPoolAsync(_pool);

    /// <summary>Creates the store (connecting to its server).</summary>
    protected abstract Task<ILeaseStore> CreateStoreAsync();

    /// <summary>The baseline: two of the backend's cheapest round trips.</summary>
    protected abstract ValueTask RawPairAsync();

    /// <summary>Removes this run's data and disconnects.</summary>
    protected abstract Task DisposeStoreAsync();
}
