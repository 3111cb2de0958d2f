using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Diagnostics;

/// <summary>
/// Each instrument of the <c>Leasing</c> meter fires when its event happens, with the pool name and
/// the backend as its only tags (never a key), durations in seconds, and gauges from the pool's
/// last status. Other tests run in parallel on the same static meter, so every assertion looks
/// only at this test's pool.
/// </summary>
public sealed class LeasingTelemetryTests : IAsyncDisposable
{
    private static readonly string[] AllowedTags = [LeasingTelemetry.PoolTag, LeasingTelemetry.BackendTag];
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
    private readonly InMemoryLeaseStore _inner;
    private readonly ObservedLeaseStore _store;
    private readonly string _name = Unique.Name("telemetry-");
    private readonly List<IDisposable> _collectors = [];
    private ChannelPool? _pool;

    public LeasingTelemetryTests()
    {
        _inner = new InMemoryLeaseStore(_time);
        _store = new ObservedLeaseStore(_inner, _time);
    }

    public async ValueTask DisposeAsync()
    {
        if (_pool is not null)
        {
            await _pool.DisposeAsync();
        }

        _collectors.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task Acquisitions_AcquireAndTryAcquireChannel_CountEachWithPoolAndBackendTagsOnly()
    {
        var acquisitions = Collect<long>("leasing.pool.acquisitions");
        var pool = Pool("a", "b");

        await using var first = await pool.AcquireAsync();
        await using var second = await pool.TryAcquireChannelAsync(first.ChannelId == "a" ? "b" : "a");

        var measurements = Mine(acquisitions);
        measurements.Should().HaveCount(2).And.OnlyContain(m => m.Value == 1);
        measurements.Should().OnlyContain(m => HasOnlyPoolAndBackendTags(m.Tags, "observed"));
    }

    [Fact]
    public async Task AcquireWait_ChannelFreedAfterTwoSeconds_RecordsTheWaitInSecondsAndCountsOneWait()
    {
        var waitHistogram = Collect<double>("leasing.pool.acquire_wait");
        var waits = Collect<long>("leasing.pool.waits");
        var pool = Pool("a");
        var holder = await pool.AcquireAsync();

        var waiting = pool.AcquireAsync().AsTask();
        await Eventually.TrueAsync(() => Mine(waits).Count == 1, "the second acquire found every channel busy");
        _time.Advance(TimeSpan.FromSeconds(2));
        await holder.ReleaseAsync();
        await using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        waitHistogram.Instrument!.Unit.Should().Be("s");
        Mine(waitHistogram).Select(m => m.Value).Should().Equal([0.0, 2.0], "the first acquire did not wait; the second waited 2 s of backend time");
        Mine(waits).Should().ContainSingle().Which.Tags.Should().Match<IReadOnlyDictionary<string, object?>>(t => HasOnlyPoolAndBackendTags(t, "observed"));
    }

    [Fact]
    public async Task AcquireWait_SlowRoundTripsWhileBusy_CountsFromTheAcquireCallIncludingTheFirstTry()
    {
        var waitHistogram = Collect<double>("leasing.pool.acquire_wait");
        var waits = Collect<long>("leasing.pool.waits");
        var pool = Pool("a");
        var holder = await pool.AcquireAsync();
        _store.RoundTrip = TimeSpan.FromMilliseconds(100);

        var called = _time.GetUtcNow();
        var waiting = pool.AcquireAsync().AsTask();
        await Eventually.TrueAsync(() => Mine(waits).Count == 1, "the second acquire waits");
        await holder.ReleaseAsync();
        await using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        var returned = _time.GetUtcNow();

        Mine(waitHistogram).Last().Value.Should().BeApproximately((returned - called).TotalSeconds, 1e-9, "the wait runs from the call, including the first busy try");
    }

    [Fact]
    public async Task HoldTime_ReleasedAfterThreeSeconds_RecordsThreeSeconds()
    {
        var hold = Collect<double>("leasing.lease.hold_time");
        var pool = Pool("a");
        var lease = await pool.AcquireAsync();
        _time.Advance(TimeSpan.FromSeconds(3));
        await lease.ReleaseAsync();

        hold.Instrument!.Unit.Should().Be("s");
        var measurement = Mine(hold).Should().ContainSingle().Subject;
        measurement.Value.Should().Be(3.0);
        HasOnlyPoolAndBackendTags(measurement.Tags, "observed").Should().BeTrue();
    }

    [Fact]
    public async Task Exhausted_NoChannelWithinAcquireTimeout_CountsOne()
    {
        var exhausted = Collect<long>("leasing.pool.exhausted");
        var waits = Collect<long>("leasing.pool.waits");
        var pool = Pool(o => o.AcquireTimeout = TimeSpan.FromSeconds(1), "a");
        await using var holder = await pool.AcquireAsync();

        var waiting = pool.AcquireAsync().AsTask();
        await Eventually.TrueAsync(() => Mine(waits).Count == 1, "the acquire waits");
        Mine(exhausted).Should().BeEmpty("it has not given up yet");
        _time.Advance(TimeSpan.FromSeconds(1));
        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<ChannelPoolExhaustedException>();

        Mine(exhausted).Should().ContainSingle().Which.Value.Should().Be(1);
    }

    [Fact]
    public async Task Cooldowns_ReleaseWithCooldownCountsAndPlainReleaseDoesNot()
    {
        var cooldowns = Collect<long>("leasing.pool.cooldowns");
        var pool = Pool("a", "b");
        var uncertain = await pool.AcquireAsync();
        var done = await pool.AcquireAsync();

        (await uncertain.ReleaseWithCooldownAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
        (await done.ReleaseAsync()).Should().BeTrue();

        var measurement = Mine(cooldowns).Should().ContainSingle().Subject;
        measurement.Value.Should().Be(1);
        HasOnlyPoolAndBackendTags(measurement.Tags, "observed").Should().BeTrue();
    }

    [Fact]
    public async Task RenewFailures_HeartbeatCannotReachBackend_CountsWithPoolAndBackendTags()
    {
        var failures = Collect<long>("leasing.lease.renew_failures");
        var flaky = new FlakyLeaseStore(_inner);
        var pool = new ChannelPool(flaky, Options("a"), _time);
        _pool = pool;
        await using var lease = await pool.AcquireAsync();

        flaky.Down = true;
        _time.Advance(TimeSpan.FromSeconds(10)); // LeaseDuration 30 s: the heartbeat runs at 10 s
        await Eventually.TrueAsync(() => Mine(failures).Count >= 1, "the heartbeat's failure was counted");
        flaky.Down = false;

        HasOnlyPoolAndBackendTags(Mine(failures)[0].Tags, "flaky").Should().BeTrue();
    }

    [Fact]
    public async Task LeasesLost_RenewFindsTheLeaseForceReleased_CountsOne()
    {
        var lost = Collect<long>("leasing.lease.lost");
        var pool = Pool("a");
        await using var lease = await pool.AcquireAsync();

        (await _inner.ForceReleaseAsync("a", _name)).Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => lease.LeaseLost.IsCancellationRequested, "the heartbeat found the lease gone");

        var measurement = Mine(lost).Should().ContainSingle().Subject;
        measurement.Value.Should().Be(1);
        HasOnlyPoolAndBackendTags(measurement.Tags, "observed").Should().BeTrue();
    }

    [Fact]
    public async Task LeasesLost_LocalDeadlinePassesUnconfirmed_CountsOne()
    {
        var lost = Collect<long>("leasing.lease.lost");
        var flaky = new FlakyLeaseStore(_inner);
        var pool = new ChannelPool(flaky, Options("a"), _time);
        _pool = pool;
        await using var lease = await pool.AcquireAsync();

        flaky.Down = true;
        _time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => flaky.Renews >= 1, "the heartbeat tried");
        _time.Advance(TimeSpan.FromSeconds(17.1)); // past the local deadline: 30 s - 3 s margin
        await Eventually.TrueAsync(() => lease.LeaseLost.IsCancellationRequested, "the deadline passed");
        flaky.Down = false;

        Mine(lost).Should().ContainSingle().Which.Value.Should().Be(1);
    }

    [Fact]
    public async Task Gauges_AfterAStatusRead_ReportHeldFreeCoolingOfThatStatusWithoutCallingTheBackend()
    {
        var held = Collect<int>("leasing.pool.held");
        var free = Collect<int>("leasing.pool.free");
        var cooling = Collect<int>("leasing.pool.cooling");
        var pool = Pool("a", "b", "c");
        await using var holding = await pool.AcquireAsync();
        var cooled = await pool.AcquireAsync();
        await cooled.ReleaseWithCooldownAsync(TimeSpan.FromMinutes(1));
        await pool.GetStatusAsync();
        var inspections = _store.PoolInspections;

        for (var scrape = 0; scrape < 3; scrape++)
        {
            held.RecordObservableInstruments();
            free.RecordObservableInstruments();
            cooling.RecordObservableInstruments();
        }

        _store.PoolInspections.Should().Be(inspections, "a scrape reads the last status, never the backend");
        Mine(held).Should().HaveCount(3).And.OnlyContain(m => m.Value == 1 && HasOnlyPoolAndBackendTags(m.Tags, "observed"));
        Mine(free).Should().HaveCount(3).And.OnlyContain(m => m.Value == 1);
        Mine(cooling).Should().HaveCount(3).And.OnlyContain(m => m.Value == 1);
    }

    [Fact]
    public async Task Gauges_LastStatusOlderThanFiveSeconds_RefreshedOnceInTheBackground()
    {
        var held = Collect<int>("leasing.pool.held");
        var pool = Pool("a", "b");
        await pool.GetStatusAsync();
        await using var lease = await pool.AcquireAsync();
        var inspections = _store.PoolInspections;

        _time.Advance(TimeSpan.FromSeconds(6));
        held.RecordObservableInstruments();
        held.RecordObservableInstruments();
        await Eventually.TrueAsync(() => _store.PoolInspections == inspections + 1, "one background refresh");
        Mine(held)[0].Value.Should().Be(0, "the first scrapes report the last status (nothing held then)");

        held.RecordObservableInstruments();
        Mine(held).Last().Value.Should().Be(1, "the refreshed status shows the held channel");
        _store.PoolInspections.Should().Be(inspections + 1, "fresh again: no further backend call");
    }

    [Fact]
    public async Task Gauges_PoolDisposed_NoLongerReported()
    {
        var held = Collect<int>("leasing.pool.held");
        var pool = Pool("a");
        await pool.GetStatusAsync();
        await pool.DisposeAsync();
        _pool = null;

        held.RecordObservableInstruments();
        Mine(held).Should().BeEmpty();
    }

    [Fact]
    public async Task AcquireActivity_Started_CarriesPoolAndFencingTokenButNoChannel()
    {
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == LeasingTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (activities)
                {
                    activities.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var pool = Pool("a");

        await using var lease = await pool.AcquireAsync();

        Activity span;
        lock (activities)
        {
            span = activities.Single(a => Equals(a.GetTagItem(LeasingTelemetry.PoolTag), _name));
        }

        span.OperationName.Should().Be("leasing.pool.acquire");
        span.GetTagItem("leasing.fencing_token").Should().Be(lease.FencingToken);
    }

    [Fact]
    public void Instruments_EveryOneOfTheMeter_IsNamedLeasingDotAndDurationsAreSeconds()
    {
        var instruments = new List<System.Diagnostics.Metrics.Instrument>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == LeasingTelemetry.Name)
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();

        instruments.Select(i => i.Name).Should().BeEquivalentTo(
            "leasing.pool.acquisitions", "leasing.pool.waits", "leasing.pool.waiting", "leasing.pool.exhausted", "leasing.pool.cooldowns",
            "leasing.lease.renew_failures", "leasing.lease.lost", "leasing.pool.acquire_wait", "leasing.lease.hold_time",
            "leasing.idempotency.executions", "leasing.idempotency.replays", "leasing.idempotency.waits",
            "leasing.idempotency.fingerprint_mismatches", "leasing.pool.held", "leasing.pool.free", "leasing.pool.cooling");
        instruments.Where(i => i.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal)).Should().OnlyContain(i => i.Unit == "s");
    }

    private static bool HasOnlyPoolAndBackendTags(IReadOnlyDictionary<string, object?> tags, string backend) =>
        tags.Keys.Order(StringComparer.Ordinal).SequenceEqual(AllowedTags.Order(StringComparer.Ordinal))
        && Equals(tags[LeasingTelemetry.BackendTag], backend);

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct
    {
        var collector = new MetricCollector<T>(LeasingTelemetry.Meter, instrument, _time);
        _collectors.Add(collector);
        return collector;
    }

    private List<CollectedMeasurement<T>> Mine<T>(MetricCollector<T> collector)
        where T : struct =>
        [.. collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue(LeasingTelemetry.PoolTag, out var pool) && Equals(pool, _name))];

    private ChannelPool Pool(params string[] channels) => Pool(null, channels);

    private ChannelPool Pool(Action<ChannelPoolOptions>? configure, params string[] channels)
    {
        var options = Options(channels);
        configure?.Invoke(options);
        _pool = new ChannelPool(_store, options, _time);
        return _pool;
    }

    private ChannelPoolOptions Options(params string[] channels) => new() { Name = _name, Channels = channels };
}
