using System.Collections.Concurrent;
using Leasing.InMemory;

namespace Leasing.Benchmarks.Suites;

/// <summary>The lease-store operations on <see cref="InMemoryLeaseStore"/>; baseline: a bare dictionary add+remove (the floor of a process-local lock).</summary>
public class InMemoryLeaseStoreBenchmark : LeaseStoreBenchmark
{
    private readonly ConcurrentDictionary<string, string> _raw = new(StringComparer.Ordinal);

    protected override Task<ILeaseStore> CreateStoreAsync() => Task.FromResult<ILeaseStore>(new InMemoryLeaseStore());

    protected override ValueTask RawPairAsync()
    {
        _raw.TryAdd("key", "token");
        _raw.TryRemove("key", out _);
        return ValueTask.CompletedTask;
    }

    protected override Task DisposeStoreAsync() => Task.CompletedTask;
}
