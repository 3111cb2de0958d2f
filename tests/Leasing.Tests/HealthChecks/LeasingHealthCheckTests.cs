using System.Globalization;
using FluentAssertions;
using Leasing.HealthChecks;
using Leasing.InMemory;
using Leasing.Testing;
using Leasing.Tests.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.HealthChecks;

public sealed class LeasingHealthCheckTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));

    [Fact]
    public async Task CheckHealthAsync_InMemoryStores_HealthyWithBackendAndLatencies()
    {
        var check = new LeasingHealthCheck(new InMemoryLeaseStore(), new InMemoryIdempotencyStore());

        var result = await check.CheckHealthAsync(Context(check));

        result.Status.Should().Be(HealthStatus.Healthy);
        result.Data["backend"].Should().Be("memory");
        result.Data.Should().ContainKeys("latency_ms", "lease_store_latency_ms", "idempotency_store_latency_ms");
        ((double)result.Data["latency_ms"]).Should().BeGreaterThanOrEqualTo(0);
    }

    [Fact]
    public async Task CheckHealthAsync_BackendDown_UnhealthyWithTheOutage()
    {
        var store = new FlakyLeaseStore(new InMemoryLeaseStore()) { Down = true };
        var check = new LeasingHealthCheck(store);

        var result = await check.CheckHealthAsync(Context(check));

        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Exception.Should().BeOfType<LeaseStoreUnavailableException>();
        result.Data.Should().ContainKey("latency_ms");
    }

    [Fact]
    public async Task CheckHealthAsync_BackendHangs_UnhealthyAtTheTimeoutNotBefore()
    {
        var store = new ObservedLeaseStore(new InMemoryLeaseStore(_time), _time) { Hang = true };
        var check = new LeasingHealthCheck(store, options: new LeasingHealthCheckOptions { Timeout = TimeSpan.FromSeconds(2) }, timeProvider: _time);

        var checking = check.CheckHealthAsync(Context(check));
        _time.Advance(TimeSpan.FromSeconds(1.9));
        checking.IsCompleted.Should().BeFalse("the timeout has not passed");
        _time.Advance(TimeSpan.FromSeconds(0.1));
        var result = await checking.WaitAsync(TimeSpan.FromSeconds(10));

        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Description.Should().Contain("did not answer within 2 s");
        result.Data["latency_ms"].Should().Be(2000.0);
    }

    [Fact]
    public async Task AddLeasingHealthChecks_InMemoryLeasing_ReportsHealthy()
    {
        await using var provider = Services().AddInMemoryLeasing().AddHealthChecks().AddLeasingHealthChecks().Services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        report.Entries.Should().ContainKey("leasing").WhoseValue.Status.Should().Be(HealthStatus.Healthy);
        report.Entries["leasing"].Data.Should().ContainKey("idempotency_store_latency_ms", "the registered idempotency store is probed too");
    }

    [Fact]
    public async Task AddLeasingHealthChecks_BackendDown_ReportsTheRegisteredFailureStatus()
    {
        var services = Services();
        services.AddSingleton<ILeaseStore>(new FlakyLeaseStore(new InMemoryLeaseStore()) { Down = true });
        services.AddHealthChecks().AddLeasingHealthChecks("store", HealthStatus.Degraded, ["ready"]);
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = report.Entries["store"];
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Exception.Should().BeOfType<LeaseStoreUnavailableException>();
        entry.Tags.Should().Equal("ready");
    }

    [Theory]
    [InlineData(0, "leasing-health-probe")]
    [InlineData(5, " ")]
    public void AddLeasingHealthChecks_BadOptions_ThrowsAtRegistration(int timeoutSeconds, string probeKey)
    {
        var builder = new ServiceCollection().AddHealthChecks();

        FluentActions.Invoking(() => builder.AddLeasingHealthChecks(configure: o =>
        {
            o.Timeout = TimeSpan.FromSeconds(timeoutSeconds);
            o.ProbeKey = probeKey;
        })).Should().Throw<ArgumentException>().WithParameterName("configure");
    }

    private static IServiceCollection Services() =>
        new ServiceCollection().AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));

    private static HealthCheckContext Context(IHealthCheck check) =>
        new() { Registration = new HealthCheckRegistration("leasing", check, HealthStatus.Unhealthy, tags: null) };
}
