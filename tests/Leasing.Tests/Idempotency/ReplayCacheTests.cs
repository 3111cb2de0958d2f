using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Idempotency;

// IdempotencyOptions.ReplayCacheDuration: a stored outcome this executor saw is replayed from memory, without
// a round trip, to later calls with the same key and fingerprint, for the duration on the local clock.
public sealed class ReplayCacheTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ExecuteAsync_CacheOn_ALaterDuplicateReplaysWithoutARoundTripUntilTheDurationPasses()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { ReplayCacheDuration = TimeSpan.FromMinutes(1) }, _time);
        var runs = 0;
        Task<string> Charge(CancellationToken ct) => Task.FromResult($"receipt-{Interlocked.Increment(ref runs)}");

        var first = await executor.ExecuteAsync("payment-1", Charge, fingerprint: "100 EUR");
        var claims = store.Claims;
        var second = await executor.ExecuteAsync("payment-1", Charge, fingerprint: "100 EUR");

        first.Replayed.Should().BeFalse();
        second.Replayed.Should().BeTrue();
        second.Value.Should().Be(first.Value);
        store.Claims.Should().Be(claims, "the replay came from memory");

        _time.Advance(TimeSpan.FromMinutes(1));
        var third = await executor.ExecuteAsync("payment-1", Charge, fingerprint: "100 EUR");
        third.Value.Should().Be(first.Value, "the store still replays it");
        store.Claims.Should().Be(claims + 1, "past the duration the store is asked again");
        runs.Should().Be(1);
    }

    [Fact]
    public async Task ExecuteAsync_CacheOn_AnotherFingerprintStillFailsAsKeyReuse()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { ReplayCacheDuration = TimeSpan.FromMinutes(1) }, _time);
        await executor.ExecuteAsync("payment-2", ct => Task.FromResult("receipt"), fingerprint: "100 EUR");

        await FluentActions.Awaiting(() => executor.ExecuteAsync("payment-2", ct => Task.FromResult("other"), fingerprint: "200 EUR"))
            .Should().ThrowAsync<IdempotencyKeyReuseException>();
    }

    [Fact]
    public async Task ExecuteAsync_CacheOn_ATerminalFailureReplaysAsAFailureFromMemory()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions
        {
            ReplayCacheDuration = TimeSpan.FromMinutes(1),
            IsTerminal = e => e is InvalidOperationException,
        }, _time);
        await FluentActions.Awaiting(() => executor.ExecuteAsync<string>("payment-3", ct => throw new InvalidOperationException("card declined")))
            .Should().ThrowAsync<InvalidOperationException>();
        var claims = store.Claims;

        await FluentActions.Awaiting(() => executor.ExecuteAsync<string>("payment-3", ct => Task.FromResult("never")))
            .Should().ThrowAsync<IdempotentExecutionFailedException>().WithMessage("*card declined*");
        store.Claims.Should().Be(claims);
    }

    [Fact]
    public async Task ExecuteAsync_CacheOffByDefault_EveryCallAsksTheStore()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, timeProvider: _time);
        await executor.ExecuteAsync("payment-4", ct => Task.FromResult("receipt"));
        var claims = store.Claims;

        (await executor.ExecuteAsync("payment-4", ct => Task.FromResult("again"))).Replayed.Should().BeTrue();
        store.Claims.Should().Be(claims + 1);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(25 * 60 * 60)]
    public void Constructor_ReplayCacheDurationOutOfRange_ThrowsNamingTheRule(int seconds)
    {
        var options = new IdempotencyOptions { Retention = TimeSpan.FromHours(24), ReplayCacheDuration = TimeSpan.FromSeconds(seconds) };

        FluentActions.Invoking(() => new IdempotentExecutor(new InMemoryIdempotencyStore(), options))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*IdempotencyOptions.ReplayCacheDuration*Retention*");
    }
}
