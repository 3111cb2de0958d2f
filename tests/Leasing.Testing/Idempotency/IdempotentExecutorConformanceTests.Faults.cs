using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Faults between the executor and its store (issue 10, defect 1): the outcome is stored or the claim
// is provably lost, never silently abandoned; waiting duplicates ride short outages through.
public abstract partial class IdempotentExecutorConformanceTests
{
    [Fact]
    public async Task ExecuteAsync_ClaimAnsweredPastItsLocalDeadline_TheActionDoesNotRunAndTheClaimIsReleased_Issue10()
    {
        // The store grants the claim; the app handles the reply only after its own clock passed the
        // claim's local deadline (a paused process). A duplicate elsewhere may own the key by then, so
        // running the action could pay twice: the claim goes back unused and the caller sees an outage.
        var key = Unique.Name();
        var clock = new JumpingTimeProvider();
        var (a, aStore) = CreateFaultyExecutor(o => o.LeaseDuration = LongTtl, clock);
        var (b, _) = CreateExecutor(o => o.LeaseDuration = LongTtl);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        aStore.HoldClaimReplies = gate.Task;
        var executions = 0;

        var first = a.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("late", 1m, ["never"]));
        }, fingerprint: "payment");
        var claim = await aStore.FirstHeldClaim.WaitAsync(TimeSpan.FromSeconds(30));
        claim.Outcome.Should().Be(ClaimOutcome.Claimed, "the store granted before the reply was held");
        clock.Jump(LongTtl);
        gate.SetResult();

        await first.Awaiting(f => f).Should().ThrowAsync<LeaseStoreUnavailableException>();
        executions.Should().Be(0, "a claim too late to use never runs the action");

        // Released, not left to expire: another instance runs the key at once (its lease is minutes long).
        var reader = Backend.CreateStore();
        await Eventually.TrueAsync(
            () => reader.GetAsync(key).AsTask().GetAwaiter().GetResult() is { Status: IdempotencyStatus.Released },
            "the late claim was released",
            TimeSpan.FromSeconds(10));
        var ran = await b.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("paid", 1m, ["once"]));
        }, fingerprint: "payment").WaitAsync(TimeSpan.FromSeconds(30));
        ran.Replayed.Should().BeFalse();
        executions.Should().Be(1);
    }

    [Fact]
    public async Task ExecuteAsync_FirstCompletionRequestLost_RunsOnceAndTheDuplicateReplays_Issue10()
    {
        // A's first completion fails without reaching the store. Its claim lease is three Ttl (room for
        // a busy machine's scheduling stalls), and the action outlives a third of it: a claim left
        // unrenewed after the failed completion would expire and B would run the payment again.
        var key = Unique.Name();
        var (a, aStore) = CreateFaultyExecutor(o => o.LeaseDuration = Ttl * 3);
        var (b, _) = CreateExecutor(o => o.LeaseDuration = Ttl * 3);
        aStore.LoseCompleteRequests(1);
        var executions = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = a.ExecuteAsync(key, async ct =>
        {
            Interlocked.Increment(ref executions);
            started.TrySetResult();
            await finish.Task;
            return new Receipt("paid", 10m, ["once"]);
        }, fingerprint: "payment");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = b.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("paid-again", 10m, ["twice"]));
        }, fingerprint: "payment");
        await PassUntilAsync(second, Ttl / 4, Ttl * 1.25);
        finish.SetResult();

        var both = Task.WhenAll(first, second);
        await PassUntilAsync(both, Ttl / 4, Ttl * 12);
        await both.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsFaulted && t.Exception!.InnerException is TimeoutException ? throw new TimeoutException($"A: {first.Status}, B: {second.Status}; A's store: {aStore.Timeline}") : t).Unwrap();
        var (ran, replayed) = (await first, await second);

        executions.Should().Be(1, $"a lost completion is retried with the same owner token, never abandoned (A's store: {aStore.Timeline})");
        aStore.Completes.Should().BeGreaterThan(1, "the first completion was lost and retried");
        ran.Replayed.Should().BeFalse();
        replayed.Replayed.Should().BeTrue();
        replayed.Value.Should().Be(ran.Value);
    }

    [Fact]
    public async Task ExecuteAsync_CompletionReplyLost_TheOwnerGetsItsOwnResultAndRunsOnce_Issue10()
    {
        // The completion ran on the store, its reply was lost: the retry finds the key completed with
        // this claim's fencing token, which is this execution's own outcome, not someone else's.
        var key = Unique.Name();
        var (a, aStore) = CreateFaultyExecutor();
        aStore.LoseCompleteReplies(1);
        var executions = 0;

        var call = a.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("r", 1m, ["x"]));
        }, fingerprint: "fp");
        await PassUntilAsync(call, TimeSpan.FromMilliseconds(50), Ttl * 4);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));

        result.Replayed.Should().BeFalse("the action ran for this call");
        result.Value.Should().Be(new Receipt("r", 1m, ["x"]));
        executions.Should().Be(1);

        var (later, _) = CreateExecutor();
        var replay = await later.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("again", 1m, ["y"]));
        }, fingerprint: "fp");
        replay.Replayed.Should().BeTrue();
        replay.Value.Should().Be(result.Value);
        executions.Should().Be(1);
    }

    [Fact]
    public async Task ExecuteAsync_WaitingDuplicateSeesAShortOutage_RidesItThroughAndReplays_Issue10()
    {
        var key = Unique.Name();
        var (owner, _) = CreateExecutor();
        var (waiter, waiterStore) = CreateFaultyExecutor(o => o.OutageTolerance = LongTtl);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var running = owner.ExecuteAsync(key, async ct =>
        {
            started.TrySetResult();
            await finish.Task;
            return new Receipt("done", 2m, ["z"]);
        }, fingerprint: "fp");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = waiter.ExecuteAsync(key, ct => Task.FromResult(new Receipt("dup", 2m, ["dup"])), fingerprint: "fp");
        await WaitUntilClaimedTwiceAsync(waiterStore, waiting);

        waiterStore.Down = true;
        var failuresBefore = waiterStore.Failures;
        var sawOutage = Task.Run(() => Eventually.TrueAsync(() => waiterStore.Failures > failuresBefore, "the waiting duplicate met the outage"));
        await PassUntilAsync(sawOutage, TimeSpan.FromMilliseconds(100), Ttl * 20);
        await sawOutage;
        waiting.IsCompleted.Should().BeFalse("a short outage only delays a waiting duplicate");

        waiterStore.Down = false;
        finish.SetResult();
        var both = Task.WhenAll(running, waiting);
        await PassUntilAsync(both, TimeSpan.FromMilliseconds(100), Ttl * 20);
        await both.WaitAsync(TimeSpan.FromSeconds(30));
        var (ran, replayed) = (await running, await waiting);

        replayed.Replayed.Should().BeTrue();
        replayed.Value.Should().Be(ran.Value);
    }

    [Fact]
    public async Task ExecuteAsync_WaitingDuplicateSeesALongOutage_FailsWithUnavailableAfterTheTolerance_Issue10()
    {
        var key = Unique.Name();
        var (owner, _) = CreateExecutor();
        var (waiter, waiterStore) = CreateFaultyExecutor(o => o.OutageTolerance = Ttl);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = owner.ExecuteAsync(key, async ct =>
        {
            started.TrySetResult();
            await finish.Task;
            return 1;
        }, fingerprint: "fp");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = waiter.ExecuteAsync(key, ct => Task.FromResult(2), fingerprint: "fp");
        await WaitUntilClaimedTwiceAsync(waiterStore, waiting);

        waiterStore.Down = true;
        await PassUntilAsync(waiting, TimeSpan.FromMilliseconds(100), Ttl * 20);

        var thrown = await waiting.Awaiting(t => t).Should().ThrowAsync<LeaseStoreUnavailableException>();
        thrown.Which.InnerException.Should().BeOfType<LeaseStoreUnavailableException>("the last error is inside");
        finish.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    // The duplicate found the key in progress (a second claim follows the first InProgress answer).
    private async Task WaitUntilClaimedTwiceAsync(FaultyIdempotencyStore store, Task waiting)
    {
        var claimedTwice = Task.Run(() => Eventually.TrueAsync(() => store.Claims >= 2, "the duplicate found the key in progress and claimed again"));
        await PassUntilAsync(claimedTwice, TimeSpan.FromMilliseconds(50), Ttl * 10);
        await claimedTwice;
        waiting.IsCompleted.Should().BeFalse("the duplicate waits for the owner");
    }

    [Fact]
    public async Task ExecuteAsync_CompletionFailsEveryTimeWhileTheClaimIsHeld_GivesUpAfterTheLease_Issue10()
    {
        // A completion the store never takes (while heartbeats succeed) is not retried for ever.
        var key = Unique.Name();
        var (a, aStore) = CreateFaultyExecutor(o => { o.LeaseDuration = Ttl; o.OutageTolerance = Ttl; });
        aStore.LoseCompleteRequests(int.MaxValue);

        var call = a.ExecuteAsync(key, ct => Task.FromResult(1), fingerprint: "fp");
        await PassUntilAsync(call, Ttl / 4, Ttl * 20);

        var thrown = await call.Awaiting(c => c.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<LeaseStoreUnavailableException>();
        thrown.Which.Message.Should().Contain("could not be stored");
        aStore.Completes.Should().BeGreaterThan(2, "it retried before giving up");
    }

    [Fact]
    public async Task ExecuteAsync_IsTerminalThrows_TheFailureIsRetryableAndTheClaimReleased_Issue10()
    {
        var key = Unique.Name();
        var (a, _) = CreateExecutor(o => o.IsTerminal = _ => throw new InvalidOperationException("predicate bug"));
        var executions = 0;

        var first = () => a.ExecuteAsync<int>(key, ct =>
        {
            Interlocked.Increment(ref executions);
            throw new TimeoutException("downstream");
        }, fingerprint: "fp");
        await first.Should().ThrowAsync<TimeoutException>();

        var (b, _) = CreateExecutor();
        var second = await b.ExecuteAsync(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(7);
        }, fingerprint: "fp");
        second.Value.Should().Be(7);
        second.Replayed.Should().BeFalse("the claim was released at once, not left heartbeated");
        executions.Should().Be(2);
    }
}
