using FluentAssertions;
using Leasing.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit;

namespace Leasing.Tests.Diagnostics;

/// <summary>
/// The idempotency counters carry the backend as their only tag, never the key (the counts
/// themselves are pinned in Idempotency/IdempotencyTelemetryTests). Measurements are told apart
/// from parallel tests by the store's backend name, which only this class uses.
/// </summary>
public sealed class IdempotencyTelemetryTagTests
{
    private const string Backend = "telemetryprobe";

    [Fact]
    public async Task EveryIdempotencyCounter_ExecutionReplayWaitMismatch_TaggedWithTheBackendOnly()
    {
        string[] names = ["leasing.idempotency.executions", "leasing.idempotency.replays", "leasing.idempotency.waits", "leasing.idempotency.fingerprint_mismatches"];
        var collectors = names.Select(n => new MetricCollector<long>(LeasingTelemetry.Meter, n)).ToArray();
        try
        {
            var store = new TelemetryProbeIdempotencyStore();
            await using var owner = new IdempotentExecutor(store);
            await using var other = new IdempotentExecutor(store);
            var key = Unique.Name("secret-key-");
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            var running = owner.ExecuteAsync(key, async _ =>
            {
                started.SetResult();
                await release.Task;
                return 1;
            });
            await started.Task;
            var waiting = other.ExecuteAsync(key, _ => Task.FromResult(2));
            release.SetResult();
            await Task.WhenAll(running, waiting);
            await FluentActions.Awaiting(() => owner.ExecuteAsync(key, _ => Task.FromResult(3), fingerprint: "other input"))
                .Should().ThrowAsync<IdempotencyKeyReuseException>();

            foreach (var collector in collectors)
            {
                var mine = collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags.GetValueOrDefault(LeasingTelemetry.BackendTag), Backend)).ToList();
                mine.Should().NotBeEmpty($"{collector.Instrument!.Name} fired");
                mine.Should().OnlyContain(m => m.Tags.Count == 1, $"{collector.Instrument!.Name} carries the backend tag only");
                mine.SelectMany(m => m.Tags.Values).Should().NotContain(key, "a key never becomes a tag");
            }
        }
        finally
        {
            foreach (var collector in collectors)
            {
                collector.Dispose();
            }
        }
    }
}
