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
    public async Task ExecuteAsync_CacheOff_EveryCallAsksTheStore()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { ReplayCacheDuration = TimeSpan.Zero }, _time);
        await executor.ExecuteAsync("payment-4", ct => Task.FromResult("receipt"));
        var claims = store.Claims;

        (await executor.ExecuteAsync("payment-4", ct => Task.FromResult("again"))).Replayed.Should().BeTrue();
        store.Claims.Should().Be(claims + 1);
    }

    [Fact]
    public async Task ExecuteAsync_DefaultOptions_AThousandRetriesOfACompletedCallCostOneRoundTripPer30Seconds()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, timeProvider: _time);
        new IdempotencyOptions().ReplayCacheDuration.Should().Be(TimeSpan.FromSeconds(30));
        await executor.ExecuteAsync("payment-5", ct => Task.FromResult("receipt"));
        var claims = store.Claims;

        for (var i = 0; i < 1_000; i++)
        {
            (await executor.ExecuteAsync("payment-5", ct => Task.FromResult("again"))).Value.Should().Be("receipt");
        }

        store.Claims.Should().Be(claims, "a thousand retries within 30 s replay from memory");

        _time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 1_000; i++)
        {
            (await executor.ExecuteAsync("payment-5", ct => Task.FromResult("again"))).Value.Should().Be("receipt");
        }

        store.Claims.Should().Be(claims + 1, "past 30 s the store is asked once, and its answer is kept again");
    }

    [Fact]
    public async Task EvictAsync_ThroughTheExecutor_ForgetsTheReplayAtOnce_TheNextCallRunsAgain()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, timeProvider: _time);
        var runs = 0;
        Task<int> Charge(CancellationToken ct) => Task.FromResult(Interlocked.Increment(ref runs));
        await executor.ExecuteAsync("payment-6", Charge);

        (await executor.EvictAsync("payment-6")).Should().BeTrue("the store held the record");
        var again = await executor.ExecuteAsync("payment-6", Charge);

        again.Replayed.Should().BeFalse();
        again.Value.Should().Be(2, "the action ran again: neither the store nor this executor's cache remembered the key");
        (await executor.EvictAsync("payment-6")).Should().BeTrue();
        (await executor.EvictAsync("payment-6")).Should().BeFalse("nothing is stored any more");
    }

    [Fact]
    public async Task EvictAsync_WhileACallIsLoadingTheStoredOutcome_ALaterCallRunsAgain_AndTheOldOutcomeIsNotCached()
    {
        var inner = new InMemoryIdempotencyStore(_time);
        await using (var other = new IdempotentExecutor(inner, timeProvider: _time))
        {
            await other.ExecuteAsync("payment-7", ct => Task.FromResult(1)); // stored by another instance
        }

        var gated = new GatedFirstClaim(inner);
        await using var executor = new IdempotentExecutor(gated, timeProvider: _time);
        var loading = executor.ExecuteAsync("payment-7", ct => Task.FromResult(2));
        await gated.Claimed.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the store answered "completed: 1", the reply is held

        IdempotentResult<int> after;
        try
        {
            (await executor.EvictAsync("payment-7")).Should().BeTrue();
            after = await executor.ExecuteAsync("payment-7", ct => Task.FromResult(3)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            gated.Open(); // a failing run must not leave the held flight (and the executor's disposal) hanging
        }

        after.Replayed.Should().BeFalse("a call made after the eviction starts its own flight instead of joining the one reading the old record");
        after.Value.Should().Be(3);

        (await loading).Value.Should().Be(1, "that call had read the outcome before the eviction");
        (await executor.ExecuteAsync("payment-7", ct => Task.FromResult(4))).Value.Should().Be(3, "the outcome cached is the one stored after the eviction");
    }

    [Fact]
    public async Task ExecuteAsync_CacheOn_APayloadOver64KiB_IsReplayedByTheStore()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, timeProvider: _time);
        var big = new string('x', 70 * 1024);
        await executor.ExecuteAsync("payment-8", ct => Task.FromResult(big));
        var claims = store.Claims;

        (await executor.ExecuteAsync("payment-8", ct => Task.FromResult("other"))).Value.Should().Be(big);
        store.Claims.Should().Be(claims + 1, "outcomes over 64 KiB are not kept in memory");
    }

    [Fact]
    public async Task ExecuteAsync_RetentionShorterThanTheCache_TheReplayLastsNoLongerThanRetention()
    {
        var store = new CountingIdempotencyStore(new InMemoryIdempotencyStore(_time));
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { Retention = TimeSpan.FromSeconds(5) }, _time);
        var runs = 0;
        await executor.ExecuteAsync("payment-9", ct => Task.FromResult(Interlocked.Increment(ref runs)));
        var claims = store.Claims;

        (await executor.ExecuteAsync("payment-9", ct => Task.FromResult(Interlocked.Increment(ref runs)))).Value.Should().Be(1);
        store.Claims.Should().Be(claims, "within Retention the replay comes from memory");

        _time.Advance(TimeSpan.FromSeconds(5));
        (await executor.ExecuteAsync("payment-9", ct => Task.FromResult(Interlocked.Increment(ref runs)))).Value.Should().Be(2, "the record expired, and so did the cached replay (5 s, not the default 30 s)");
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

    // Holds the reply of the first TryClaimAsync (after the store answered) until opened; forwards everything else.
    private sealed class GatedFirstClaim(IIdempotencyStore inner) : IIdempotencyStore
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _claims;

        public TaskCompletionSource Claimed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public async ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
        {
            var claim = await inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);
            if (Interlocked.Increment(ref _claims) == 1)
            {
                Claimed.TrySetResult();
                await _open.Task;
            }

            return claim;
        }

        public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default) =>
            inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);

        public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default) =>
            inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);

        public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) => inner.ReleaseAsync(key, ownerToken, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) => inner.EvictAsync(key, cancellationToken);
    }
}
