using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Leasing.Tests.Hosting;

/// <summary>A host with a pool, lock or executor but no backend fails when it starts, not at first use.</summary>
public sealed class StartupValidationTests
{
    private static readonly string[] BackendCalls = ["AddInMemoryLeasing", "AddRedisLeasing", "AddSqliteLeasing", "AddPostgresLeasing"];

    [Fact]
    public async Task StartAsync_ChannelPoolWithoutBackend_FailsNamingTheBackendRegistrations()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddChannelPool("relayers", o => o.Channels = ["r1"]);
        using var host = builder.Build();

        var start = () => host.StartAsync();

        var failure = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        failure.Message.Should().Contain("ChannelPool 'relayers'").And.Contain("ILeaseStore");
        foreach (var call in BackendCalls)
        {
            failure.Message.Should().Contain(call);
        }
    }

    [Fact]
    public void Validate_DistributedLockWithoutBackend_NamesILeaseStoreAndTheBackends()
    {
        var services = new ServiceCollection();
        services.AddDistributedLock();
        using var provider = services.BuildServiceProvider();

        var validate = () => provider.GetRequiredService<IStartupValidator>().Validate();

        var failure = validate.Should().Throw<OptionsValidationException>().Which;
        failure.Message.Should().Contain("DistributedLock").And.Contain("ILeaseStore");
        foreach (var call in BackendCalls)
        {
            failure.Message.Should().Contain(call);
        }
    }

    [Fact]
    public void Validate_IdempotentExecutorWithoutIdempotencyStore_NamesIIdempotencyStore()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILeaseStore>(_ => throw new InvalidOperationException("not resolved by validation"));
        services.AddIdempotentExecutor();
        using var provider = services.BuildServiceProvider();

        var validate = () => provider.GetRequiredService<IStartupValidator>().Validate();

        var failure = validate.Should().Throw<OptionsValidationException>().Which;
        failure.Message.Should().Contain("IdempotentExecutor").And.Contain("IIdempotencyStore");
        foreach (var call in BackendCalls)
        {
            failure.Message.Should().Contain(call);
        }
    }

    [Fact]
    public async Task StartAsync_WithInMemoryBackend_StartsAndDoesNotBuildTheStoreEarly()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var built = 0;
        builder.Services.AddSingleton<ILeaseStore>(_ =>
        {
            Interlocked.Increment(ref built);
            return new InMemoryLeaseStore();
        });
        builder.Services.AddInMemoryLeasing();
        builder.Services.AddChannelPool("relayers", o => o.Channels = ["r1"]);
        builder.Services.AddDistributedLock();
        builder.Services.AddIdempotentExecutor();
        using var host = builder.Build();

        await host.StartAsync();

        built.Should().Be(0, "the start-up check asks whether a store is registered, it never builds one");
        var pool = host.Services.GetRequiredKeyedService<ChannelPool>("relayers");
        await using (var lease = await pool.AcquireAsync())
        {
            lease.ChannelId.Should().Be("r1");
        }

        built.Should().Be(1);
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_BadPoolOptions_FailsWithTheOptionValidatorsMessage()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddInMemoryLeasing();
        builder.Services.AddChannelPool("relayers", o => o.Channels = []);
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Failures.Should().Contain(f => f.Contains("ChannelPoolOptions.Channels must hold at least one channel", StringComparison.Ordinal));
    }

    [Fact]
    public void AddChannelPool_SameNameTwice_ThrowsNamingTheParameter()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddChannelPool("relayers", o => o.Channels = ["r1"]);

        var again = () => services.AddChannelPool("relayers", o => o.Channels = ["r2"]);

        again.Should().Throw<ArgumentException>().WithParameterName("name").WithMessage("*'relayers' is already registered*");
        services.Count(d => d.IsKeyedService && d.ServiceType == typeof(ChannelPool)).Should().Be(1);
    }

    [Fact]
    public async Task AddChannelPool_TwoNames_RegistersTwoPools()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddChannelPool("a", o => o.Channels = ["x"]);
        services.AddChannelPool("b", o => o.Channels = ["y"]);
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        provider.GetRequiredKeyedService<ChannelPool>("a").Should().NotBeSameAs(provider.GetRequiredKeyedService<ChannelPool>("b"));
    }
}
