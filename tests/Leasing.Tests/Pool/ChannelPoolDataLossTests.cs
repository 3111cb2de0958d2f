using System.Reflection;
using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Pool;

/// <summary>A backend that lost its data (a Redis restart without persistence) forgets the pool too.</summary>
public sealed class ChannelPoolDataLossTests
{
    [Fact]
    public async Task AcquireFindsThePoolUnknown_WritesTheMembersAgainAndGrantsInTheSameCall()
    {
        var time = new FakeTimeProvider();
        var store = RestartableStore.Create(new InMemoryLeaseStore(time));
        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = "p", Channels = ["a", "b"], MembersVersion = 3 }, time);
        (await (await pool.AcquireAsync()).ReleaseAsync()).Should().BeTrue();

        ((RestartableStore)(object)store).Inner = new InMemoryLeaseStore(time);

        var lease = await pool.TryAcquireAsync();
        lease.Should().NotBeNull("the versioned acquire found the pool unknown, so the members were written again and the acquire retried");
        (await store.GetPoolMembersAsync("p")).Should().BeEquivalentTo(["a", "b"]);
    }

    /// <summary>Forwards every call to <see cref="Inner"/>, which a test swaps to simulate lost data.</summary>
    public class RestartableStore : DispatchProxy
    {
        public ILeaseStore Inner { get; set; } = null!;

        public static ILeaseStore Create(ILeaseStore inner)
        {
            var proxy = Create<ILeaseStore, RestartableStore>();
            ((RestartableStore)(object)proxy).Inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod!.Invoke(Inner, args);
    }
}
