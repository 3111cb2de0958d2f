using FluentAssertions;
using Leasing.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit;

namespace Leasing.Tests.Diagnostics;

/// <summary>
/// The idempotency counters of the <c>Leasing</c> meter fire once per event with the backend as
/// their only tag (never the key). Measurements are told apart from parallel tests by the store's
/// backend name, which only this class uses.
/// </summary>
public sealed class IdempotencyTelemetryTests : IAsyncDisposable
{
    private const string Backend = "telemetryprobe";
    private readonly TelemetryProbeIdempotencyStore _store = new();
    private readonly IdempotentExecutor _executor;
    private readonly MetricCollector<long> _executions = new(LeasingTelemetry.Meter, "leasing.idempotency.executions");
    private readonly MetricCollector<long> _replays = new(LeasingTelemetry.Meter, "leasing.idempotency.replays");
    private readonly MetricCollector<long> _waits = new(LeasingTelemetry.Meter, "leasing.idempotency.waits");
    private readonly MetricCollector<long> _mismatches = new(LeasingTelemetry.Meter, "leasing.idempotency.fingerprint_mismatches");

    public IdempotencyTelemetryTests()
    {
        _executor = new IdempotentExecutor(_store);
    }

    public async ValueTask DisposeAsync()
    {
        await _executor.DisposeAsync();
        _executions.Dispose();
        _replays.Dispose();
        _waits.Dispose();
        _mismatches.Dispose();
    }

    [Fact]
    public async Task Executions_FirstCall_CountsOneWithTheBackendTagOnly()
    {
        var key = Unique.Name();
        await _executor.ExecuteAsync(key, _ => Task.FromResult(1));

        var measurement = Mine(_executions).Should().ContainSingle().Subject;
        measurement.Value.Should().Be(1);
        measurement.Tags.Keys.Should().Equal(LeasingTelemetry.BackendTag);
        measurement.Tags.Values.Should().NotContain(key);
        Mine(_replays).Should().BeEmpty();
    }

    [Fact]
    public async Task Replays_SecondCallWithTheSameKey_CountsOneReplayAndNoExecution()
    {
        var key = Unique.Name();
        await _executor.ExecuteAsync(key, _ => Task.FromResult(1));
        var second = await _executor.ExecuteAsync(key, _ => Task.FromResult(2));

        second.Replayed.Should().BeTrue();
        Mine(_executions).Should().ContainSingle();
        Mine(_replays).Should().ContainSingle().Which.Tags.Keys.Should().Equal(LeasingTelemetry.BackendTag);
    }

    [Fact]
    public async Task Replays_FiveConcurrentDuplicatesInProcess_OneExecutionFourReplays()
    {
        var key = Unique.Name();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 5).Select(_ => _executor.ExecuteAsync(key, async _ =>
        {
            await release.Task;
            return 7;
        })).ToArray();
        release.SetResult();
        await Task.WhenAll(calls);

        Mine(_executions).Sum(m => m.Value).Should().Be(1);
        Mine(_replays).Sum(m => m.Value).Should().Be(4);
    }

    [Fact]
    public async Task Waits_DuplicateOnAnotherInstanceWhileInProgress_CountsOneWaitThenAReplay()
    {
        var key = Unique.Name();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var other = new IdempotentExecutor(_store);
        var owner = _executor.ExecuteAsync(key, async _ =>
        {
            started.SetResult();
            await release.Task;
            return 1;
        });
        await started.Task;

        var duplicate = other.ExecuteAsync(key, _ => Task.FromResult(2));
        await Eventually.TrueAsync(() => Mine(_replays).Count == 0 && !duplicate.IsCompleted, "the duplicate waits for the owner");
        release.SetResult();
        (await duplicate).Replayed.Should().BeTrue();
        await owner;

        Mine(_waits).Should().ContainSingle().Which.Tags.Keys.Should().Equal(LeasingTelemetry.BackendTag);
        Mine(_executions).Should().ContainSingle();
        Mine(_replays).Should().ContainSingle();
    }

    [Fact]
    public async Task FingerprintMismatches_SameKeyOtherInput_CountsOneAndNothingRuns()
    {
        var key = Unique.Name();
        await _executor.ExecuteAsync(key, _ => Task.FromResult(1), fingerprint: "input-a");

        await FluentActions.Awaiting(() => _executor.ExecuteAsync(key, _ => Task.FromResult(2), fingerprint: "input-b"))
            .Should().ThrowAsync<IdempotencyKeyReuseException>();

        Mine(_mismatches).Should().ContainSingle().Which.Tags.Keys.Should().Equal(LeasingTelemetry.BackendTag);
        Mine(_executions).Should().ContainSingle("only the first call ran");
    }

    private static List<CollectedMeasurement<long>> Mine(MetricCollector<long> collector) =>
        [.. collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue(LeasingTelemetry.BackendTag, out var backend) && Equals(backend, Backend))];
}
