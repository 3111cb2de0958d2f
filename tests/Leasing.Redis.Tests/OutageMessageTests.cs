using FluentAssertions;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>
/// A backend outage reaches the caller as <see cref="LeaseStoreUnavailableException"/> saying which call
/// failed and where, without the driver's configuration advice (which stays in the inner exception).
/// </summary>
public sealed class OutageMessageTests
{
    [Fact]
    public async Task Acquire_RedisUnreachable_MessageNamesTheCallAndTheEndpointWithoutDriverAdvice()
    {
        // Nothing listens on port 1; the multiplexer keeps trying in the background.
        using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", 1 } },
            AbortOnConnectFail = false,
            ConnectTimeout = 200,
        });
        var leases = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.FromMilliseconds(500) });
        var payments = new RedisIdempotencyStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.FromMilliseconds(500) });

        var acquire = await leases.Awaiting(s => s.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(5)).AsTask())
            .Should().ThrowAsync<LeaseStoreUnavailableException>();
        var claim = await payments.Awaiting(s => s.TryClaimAsync(Unique.Name(), "f", TimeSpan.FromSeconds(5)).AsTask())
            .Should().ThrowAsync<LeaseStoreUnavailableException>();

        acquire.Which.Message.Should().Contain("an acquire").And.Contain("127.0.0.1:1").And.NotContain("abortConnect");
        acquire.Which.InnerException.Should().NotBeNull("the driver's own error stays inside");
        claim.Which.Message.Should().Contain("127.0.0.1:1").And.NotContain("abortConnect");
    }
}
