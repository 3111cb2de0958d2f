using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.InMemory;

public sealed class InMemoryLeasingRegistrationTests
{
    [Fact]
    public async Task AddInMemoryLeasing_RegistersOneIdempotencyStoreOnTheRegisteredClock()
    {
        var clock = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        services.AddInMemoryLeasing();
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IIdempotencyStore>();

        store.Should().BeOfType<InMemoryIdempotencyStore>().And.BeSameAs(provider.GetRequiredService<InMemoryIdempotencyStore>());
        var claim = await store.TryClaimAsync("k", "fp", TimeSpan.FromSeconds(10));
        claim.Existing!.LeaseExpiresAt.Should().Be(clock.GetUtcNow() + TimeSpan.FromSeconds(10), "the store runs on the registered TimeProvider");
    }

    [Fact]
    public void AddInMemoryLeasing_KeepsAnIdempotencyStoreRegisteredBefore()
    {
        var mine = new InMemoryIdempotencyStore();
        var services = new ServiceCollection().AddSingleton<IIdempotencyStore>(mine);
        services.AddInMemoryLeasing();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IIdempotencyStore>().Should().BeSameAs(mine);
    }
}
