using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Xunit;

namespace Leasing.Tests.Idempotency;

public sealed class IdempotencyTelemetryTests : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<string, long> counts = new();

    public IdempotencyTelemetryTests()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LeasingTelemetry.Name && instrument.Name.StartsWith("leasing.idempotency.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // Only this test's executors: their store's backend tag is "probe".
            foreach (var tag in tags)
            {
                if (tag.Key == LeasingTelemetry.BackendTag && (string?)tag.Value == "probe")
                {
                    counts.AddOrUpdate(instrument.Name, value, (_, c) => c + value);
                }
            }
        });
        listener.Start();
    }

    public void Dispose() => listener.Dispose();

    [Fact]
    public async Task Executor_RecordsExecutionsReplaysWaitsAndMismatches()
    {
        var inner = new InMemoryIdempotencyStore();
        var store = new ProbeIdempotencyStore(inner);
        await using var executor = new IdempotentExecutor(store);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 5).Select(_ => executor.ExecuteAsync("dup", async ct =>
        {
            await gate.Task;
            return 1;
        })).ToArray();
        gate.SetResult();
        await Task.WhenAll(calls);

        await FluentActions.Awaiting(() => executor.ExecuteAsync("dup", ct => Task.FromResult(2), fingerprint: "other")).Should().ThrowAsync<IdempotencyKeyReuseException>();

        var owner = await inner.TryClaimAsync("busy", "-", TimeSpan.FromMinutes(1));
        var waiter = executor.ExecuteAsync("busy", ct => Task.FromResult(3));
        await Eventually.TrueAsync(() => store.Claims >= 2, "the waiter found the key in progress");
        (await inner.CompleteAsync("busy", owner.OwnerToken!, IdempotencyOutcome.Succeeded, "4"u8.ToArray(), TimeSpan.FromHours(1))).Should().BeTrue();
        (await waiter).Value.Should().Be(4);

        counts.GetValueOrDefault("leasing.idempotency.executions").Should().Be(1);
        counts.GetValueOrDefault("leasing.idempotency.replays").Should().Be(5, "4 in-process duplicates and 1 waiter");
        counts.GetValueOrDefault("leasing.idempotency.waits").Should().Be(1);
        counts.GetValueOrDefault("leasing.idempotency.fingerprint_mismatches").Should().Be(1);
    }

    [Fact]
    public async Task DisposeAsync_EndsWaitsForKeysInProgressElsewhere()
    {
        var inner = new InMemoryIdempotencyStore();
        var store = new ProbeIdempotencyStore(inner);
        var executor = new IdempotentExecutor(store, new IdempotencyOptions { WaitForInProgress = TimeSpan.FromMinutes(5) });
        await inner.TryClaimAsync("busy", "-", TimeSpan.FromMinutes(1));
        var waiter = executor.ExecuteAsync("busy", ct => Task.FromResult(3));
        await Eventually.TrueAsync(() => store.Claims >= 2, "the waiter found the key in progress");

        await executor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await FluentActions.Awaiting(() => waiter.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
    }

    /// <summary>A store whose backend tag is "probe", so only this test's measurements are counted.</summary>
    private sealed class ProbeIdempotencyStore(IIdempotencyStore inner) : IIdempotencyStore, IIdempotencyCompletionSource
    {
        private readonly CountingIdempotencyStore counting = new(inner);

        public int Claims => counting.Claims;

        public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default) => counting.TryClaimAsync(key, fingerprint, lease, cancellationToken);

        public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default) => counting.HeartbeatAsync(key, ownerToken, lease, cancellationToken);

        public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default) => counting.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);

        public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) => counting.ReleaseAsync(key, ownerToken, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) => counting.GetAsync(key, cancellationToken);

        public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) => counting.EvictAsync(key, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) => counting.SubscribeToCompletionAsync(key, onCompleted, cancellationToken);
    }
}
