using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Leasing.Tests.Pool;

public sealed class ChannelPoolRegistrationTests
{
    [Fact]
    public async Task AddChannelPool_WithInMemoryLeasing_ResolvesAWorkingKeyedPool()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddChannelPool("relayers", o => o.Channels = ["r1", "r2"]);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var pool = provider.GetRequiredKeyedService<ChannelPool>("relayers");
        pool.Name.Should().Be("relayers");
        provider.GetRequiredKeyedService<ChannelPool>("relayers").Should().BeSameAs(pool);

        await using var first = await pool.AcquireAsync();
        await using var second = await pool.AcquireAsync();
        new[] { first.ChannelId, second.ChannelId }.Should().BeEquivalentTo(["r1", "r2"]);
    }

    [Fact]
    public void AddChannelPool_BadOptions_ValidateOnStartNamesTheOptionAndRule()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddChannelPool("relayers", o =>
        {
            o.Channels = ["r1", "r1"];
            o.LeaseDuration = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();

        var validate = () => provider.GetRequiredService<IStartupValidator>().Validate();
        validate.Should().Throw<OptionsValidationException>()
            .Which.Failures.Should().Contain(f => f.Contains("ChannelPoolOptions.Channels must be distinct", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("ChannelPoolOptions.LeaseDuration must be greater than zero", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddChannelPool_ContainerDisposed_DisposesThePool()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddChannelPool("relayers", o => o.Channels = ["r1"]);
        var provider = services.BuildServiceProvider();
        var pool = provider.GetRequiredKeyedService<ChannelPool>("relayers");

        await provider.DisposeAsync();

        await FluentActions.Awaiting(() => pool.AcquireAsync().AsTask()).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public void AddChannelPool_BadName_Throws()
    {
        var services = new ServiceCollection();
        FluentActions.Invoking(() => services.AddChannelPool(" ", o => o.Channels = ["a"])).Should().Throw<ArgumentException>().WithParameterName("name");
    }
}
