using System.Text;
using BenchmarkDotNet.Attributes;
using Leasing.InMemory;

namespace Leasing.Benchmarks.Suites;

/// <summary>
/// Idempotent execution on the in-memory store. Baseline: the two store calls a first execution
/// cannot do without (claim, complete), then an evict so the store stays small; the other methods
/// end with the same evict, so the Ratio column is what the executor adds.
/// </summary>
[MemoryDiagnoser]
public class IdempotentExecutionBenchmark
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);
    private static readonly ReadOnlyMemory<byte> Payload = Encoding.UTF8.GetBytes("{\"value\":42}");
    private readonly InMemoryIdempotencyStore _store = new();
    private long _next;
    private IdempotentExecutor _executor = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _executor = new IdempotentExecutor(_store);
        await _executor.ExecuteAsync("replayed", static _ => Task.FromResult(42), "fingerprint");
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _executor.DisposeAsync();

    [Benchmark(Description = "executor: first execution")]
    public async Task ExecuteFirst()
    {
        var key = NextKey();
        await _executor.ExecuteAsync(key, static _ => Task.FromResult(42), "fingerprint");
        await _store.EvictAsync(key);
    }

    [Benchmark(Description = "executor: replay of a completed key")]
    public async Task<int> ExecuteReplay() =>
        (await _executor.ExecuteAsync("replayed", static _ => Task.FromResult(42), "fingerprint")).Value;

    [Benchmark(Baseline = true, Description = "store claim+complete")]
    public async Task StoreClaimComplete()
    {
        var key = NextKey();
        var claim = await _store.TryClaimAsync(key, "fingerprint", Lease);
        if (claim.Outcome != ClaimOutcome.Claimed)
        {
            throw new InvalidOperationException($"unexpected {claim.Outcome}");
        }

        await _store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, Payload, Retention);
        await _store.EvictAsync(key);
    }

    private string NextKey() => $"op-{Interlocked.Increment(ref _next)}";
}
