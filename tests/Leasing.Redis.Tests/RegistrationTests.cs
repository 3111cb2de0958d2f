using FluentAssertions;
using Leasing.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>AddRedisLeasing: both stores over one shared connection, options validated at start.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public async Task AddRedisLeasing_SharedConnection_RegistersBothStoresWorkingOnIt()
    {
        var redis = await RedisLeaseBackend.SharedConnectionAsync();
        var services = new ServiceCollection().AddRedisLeasing(redis, o => o.KeyPrefix = RedisLeaseBackend.KeyPrefix);
        await using var provider = services.BuildServiceProvider();

        var leases = provider.GetRequiredService<ILeaseStore>();
        var idempotency = provider.GetRequiredService<IIdempotencyStore>();

        leases.Should().BeOfType<RedisLeaseStore>().And.BeSameAs(provider.GetRequiredService<RedisLeaseStore>());
        idempotency.Should().BeOfType<RedisIdempotencyStore>();
        (await leases.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(5))).Should().NotBeNull();
        (await idempotency.TryClaimAsync(Unique.Name(), "fp", TimeSpan.FromSeconds(5))).Outcome.Should().Be(ClaimOutcome.Claimed);
        redis.IsConnected.Should().BeTrue("the container does not dispose a connection it was given");
    }

    [Fact]
    public async Task AddRedisLeasing_ConnectionString_OpensAndDisposesItsOwnConnection()
    {
        var services = new ServiceCollection().AddRedisLeasing(await RedisTestServer.GetConnectionStringAsync(), o => o.KeyPrefix = RedisLeaseBackend.KeyPrefix);
        var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<ILeaseStore>();

        (await store.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(5))).Should().NotBeNull();
        await provider.DisposeAsync();
        await FluentActions.Awaiting(() => store.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(5)).AsTask()).Should().ThrowAsync<Exception>("the container closed the connection it opened");
    }

    [Theory]
    [InlineData("", "KeyPrefix")]
    [InlineData("with{brace}", "KeyPrefix")]
    [InlineData("white space", "KeyPrefix")]
    public async Task AddRedisLeasing_BadOptions_FailAtStartNamingTheOption(string prefix, string option)
    {
        var redis = await RedisLeaseBackend.SharedConnectionAsync();
        await using var provider = new ServiceCollection().AddRedisLeasing(redis, o => o.KeyPrefix = prefix).BuildServiceProvider();

        FluentActions.Invoking(() => provider.GetRequiredService<IOptions<RedisLeasingOptions>>().Value)
            .Should().Throw<OptionsValidationException>().WithMessage($"*{option}*");
        FluentActions.Invoking(() => new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.Zero }))
            .Should().Throw<ArgumentException>().WithMessage("*CommandTimeout*");
        FluentActions.Invoking(() => new RedisIdempotencyStore(redis, new RedisLeasingOptions { WaitForReplicas = -1 }))
            .Should().Throw<ArgumentException>().WithMessage("*WaitForReplicas*");
    }
}
