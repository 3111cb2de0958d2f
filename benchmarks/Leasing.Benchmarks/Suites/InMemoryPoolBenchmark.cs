using BenchmarkDotNet.Attributes;
using Leasing.InMemory;

namespace Leasing.Benchmarks.Suites;

/// <summary>
/// <see cref="ChannelPool"/> acquire+release on the in-memory store, against the store's own
/// least-recently-used acquire+release (the baseline): the Ratio column is what the pool adds
/// (handle, local deadline, telemetry, and with AutoRenew the heartbeat). Flat across
/// <see cref="Channels"/> means acquire does not grow with the pool size.
/// </summary>
[MemoryDiagnoser]
public class InMemoryPoolBenchmark
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private InMemoryLeaseStore _store = null!;
    private ChannelPool _pool = null!;
    private string _name = null!;

    [Params(100, 100_000)]
    public int Channels { get; set; }

    [Params(false, true)]
    public bool AutoRenew { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _store = new InMemoryLeaseStore();
        _name = $"bench-{Channels}";
        _pool = new ChannelPool(_store, new ChannelPoolOptions
        {
            Name = _name,
            Channels = [.. Enumerable.Range(0, Channels).Select(i => $"ch-{i}")],
            LeaseDuration = LeaseDuration,
            AutoRenew = AutoRenew,
        });
        await (await _pool.AcquireAsync()).ReleaseAsync(); // writes the members
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _pool.DisposeAsync();

    [Benchmark(Baseline = true, Description = "store LRU acquire+release")]
    public async Task StoreAcquireRelease()
    {
        var lease = await _store.TryAcquireLeastRecentlyUsedAsync(_name, LeaseDuration) ?? throw new InvalidOperationException("pool empty");
        await _store.ReleaseAsync(lease);
    }

    [Benchmark(Description = "ChannelPool acquire+release")]
    public async Task PoolAcquireRelease() => await (await _pool.AcquireAsync()).ReleaseAsync();
}
