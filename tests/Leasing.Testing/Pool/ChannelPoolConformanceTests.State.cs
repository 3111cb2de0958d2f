using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Testing;

// Fenced channel state through ChannelLease (issue 13).
public abstract partial class ChannelPoolConformanceTests
{
    [Fact]
    public async Task TrySetStateAsync_ZombieHolderPausedPastItsLease_IsRefusedAndLeaseLostFires_Issue13()
    {
        // A's clock stands still: a paused process (GC, VM stall), whose renewals and local deadline never
        // come due, while the backend's lease runs out and B takes the channel.
        var name = Unique.Name();
        var a = CreatePool(name, ["ch-0"], o => o.AutoRenew = false, time: new FakeTimeProvider());
        var b = CreatePool(name, ["ch-0"]);
        var zombie = await a.AcquireAsync();
        (await zombie.TrySetStateAsync(5L)).Should().BeTrue();

        await Backend.PassAsync(Backend.Ttl * 1.5);
        zombie.LeaseLost.IsCancellationRequested.Should().BeFalse("the paused holder still believes it holds the channel");
        await using var next = await b.AcquireAsync();
        (await next.GetStateAsync<long>()).Should().Be(5);
        (await next.TrySetStateAsync(6L)).Should().BeTrue();

        (await zombie.TrySetStateAsync(7L)).Should().BeFalse("the zombie's write must never land");
        zombie.LeaseLost.IsCancellationRequested.Should().BeTrue("a refused write means the lease is lost");

        var stored = await next.GetStateBytesAsync();
        Encoding.UTF8.GetString(stored!.Data.Span).Should().Be("6");
        stored.FencingToken.Should().Be(next.FencingToken).And.BeGreaterThan(zombie.FencingToken);
    }

    [Fact]
    public async Task TrySetStateAsync_TypedValue_RoundTripsForTheNextHolderAndSurvivesRelease()
    {
        var name = Unique.Name();
        var pool = CreatePool(name, ["ch-0"]);
        var first = await pool.AcquireAsync();
        (await first.GetStateAsync(StateJson.Default.Account)).Should().BeNull("nothing was stored yet");
        (await first.TrySetStateAsync(new Account("GA1", 41), StateJson.Default.Account)).Should().BeTrue();
        (await first.ReleaseAsync()).Should().BeTrue();

        (await first.TrySetStateBytesAsync(new byte[] { 1 })).Should().BeFalse("a released handle writes nothing");
        first.LeaseLost.IsCancellationRequested.Should().BeFalse("a released lease was not lost");

        await using var second = await CreatePool(name, ["ch-0"]).AcquireAsync();
        (await second.GetStateAsync(StateJson.Default.Account)).Should().Be(new Account("GA1", 41));
        (await second.GetStateBytesAsync())!.FencingToken.Should().Be(first.FencingToken);
    }

    [Fact]
    public async Task TrySetStateAsync_StateOverTheLimit_ThrowsNamingTheParameterAndWritesNothing()
    {
        var pool = CreatePool(Unique.Name(), ["ch-0"]);
        await using var lease = await pool.AcquireAsync();
        (await lease.TrySetStateAsync(1L)).Should().BeTrue();

        await lease.Awaiting(l => l.TrySetStateBytesAsync(new byte[LeaseArguments.MaxStateBytes + 1]).AsTask())
            .Should().ThrowAsync<ArgumentException>().WithParameterName("state");
        await lease.Awaiting(l => l.TrySetStateAsync(new string('x', LeaseArguments.MaxStateBytes)).AsTask())
            .Should().ThrowAsync<ArgumentException>().WithParameterName("value");

        (await lease.GetStateAsync<long>()).Should().Be(1);
        lease.LeaseLost.IsCancellationRequested.Should().BeFalse();
    }
}

/// <summary>A channel's state in the tests: an account and its next sequence number.</summary>
public sealed record Account(string Id, long NextSequence);

[System.Text.Json.Serialization.JsonSerializable(typeof(Account))]
internal sealed partial class StateJson : System.Text.Json.Serialization.JsonSerializerContext;
