using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Failures, fingerprints, the wait budget, dead owners, heartbeats and the context.
public abstract partial class IdempotentExecutorConformanceTests
{
    [Fact]
    public async Task ExecuteAsync_TerminalFailure_IsStoredAndReplayedAsExecutionFailed()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor(o => o.IsTerminal = e => e is InvalidOperationException);
        var (other, otherStore) = CreateExecutor(o => o.IsTerminal = e => e is InvalidOperationException);
        var executions = 0;

        await FluentActions.Awaiting(() => executor.ExecuteAsync<int>(key, ct =>
        {
            Interlocked.Increment(ref executions);
            throw new InvalidOperationException("card declined");
        })).Should().ThrowAsync<InvalidOperationException>("the call that ran the action gets the original exception");

        var replay = await FluentActions.Awaiting(() => other.ExecuteAsync<int>(key, ct =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(1);
        })).Should().ThrowAsync<IdempotentExecutionFailedException>();

        replay.Which.Key.Should().Be(key);
        replay.Which.ErrorType.Should().Be(typeof(InvalidOperationException).FullName);
        replay.Which.ErrorMessage.Should().Be("card declined");
        executions.Should().Be(1, "a terminal failure is not run again");
        otherStore.Claims.Should().Be(1);
        (await Backend.CreateStore().GetAsync(key))!.Status.Should().Be(IdempotencyStatus.Failed);
    }

    [Fact]
    public async Task ExecuteAsync_RetryableFailure_ReleasesAtOnceAndTheNextCallRunsAgain()
    {
        var key = Unique.Name();
        var (executor, store) = CreateExecutor();
        var attempts = new List<int>();

        await FluentActions.Awaiting(() => executor.ExecuteWithContextAsync<int>(key, context =>
        {
            attempts.Add(context.Attempt);
            throw new IOException("gateway timeout");
        })).Should().ThrowAsync<IOException>("a retryable failure propagates as it is");

        store.Releases.Should().Be(1);
        var released = await Backend.CreateStore().GetAsync(key);
        released!.Status.Should().Be(IdempotencyStatus.Released);

        var retry = await executor.ExecuteWithContextAsync(key, context =>
        {
            attempts.Add(context.Attempt);
            return Task.FromResult(7);
        });

        retry.Value.Should().Be(7);
        retry.Replayed.Should().BeFalse();
        attempts.Should().Equal(1, 2);
    }

    [Fact]
    public async Task ExecuteAsync_SameKeyOtherInput_ThrowsKeyReuseAndNothingRuns()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor();
        var executions = 0;
        await executor.ExecuteAsync(key, new Charge("a", 1m), (c, ct) => Task.FromResult(Interlocked.Increment(ref executions)));

        var thrown = await FluentActions.Awaiting(() => executor.ExecuteAsync(key, new Charge("a", 2m), (c, ct) => Task.FromResult(Interlocked.Increment(ref executions))))
            .Should().ThrowAsync<IdempotencyKeyReuseException>();

        thrown.Which.Key.Should().Be(key);
        executions.Should().Be(1);

        // Also while the first input's execution is still in progress.
        var busy = Unique.Name("busy");
        var claim = await Backend.CreateStore().TryClaimAsync(busy, "fp-a", LongTtl);
        claim.Outcome.Should().Be(ClaimOutcome.Claimed);
        await FluentActions.Awaiting(() => executor.ExecuteAsync(busy, ct => Task.FromResult(Interlocked.Increment(ref executions)), fingerprint: "fp-b"))
            .Should().ThrowAsync<IdempotencyKeyReuseException>();
        executions.Should().Be(1);
    }

    [Fact]
    public async Task ExecuteAsync_InProgressElsewhereAndFailFast_ThrowsInProgressWithRetryAfter()
    {
        var key = Unique.Name();
        (await Backend.CreateStore().TryClaimAsync(key, "fp", LongTtl)).Outcome.Should().Be(ClaimOutcome.Claimed);
        var (executor, _) = CreateExecutor(o => o.WaitForInProgress = TimeSpan.Zero);
        var executions = 0;

        var thrown = await FluentActions.Awaiting(() => executor.ExecuteAsync(key, ct => Task.FromResult(Interlocked.Increment(ref executions)), fingerprint: "fp"))
            .Should().ThrowAsync<IdempotencyInProgressException>();

        thrown.Which.Key.Should().Be(key);
        thrown.Which.RetryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(100)).And.BeLessThanOrEqualTo(LongTtl + TimeSpan.FromSeconds(5));
        executions.Should().Be(0);
    }

    [Fact]
    public async Task ExecuteAsync_InProgressPastTheWaitBudget_ThrowsInProgress()
    {
        var key = Unique.Name();
        (await Backend.CreateStore().TryClaimAsync(key, "fp", LongTtl)).Outcome.Should().Be(ClaimOutcome.Claimed);
        var (executor, store) = CreateExecutor(o => o.WaitForInProgress = Ttl);
        var executions = 0;

        var call = executor.ExecuteAsync(key, ct => Task.FromResult(Interlocked.Increment(ref executions)), fingerprint: "fp");
        await Eventually.TrueAsync(() => store.Claims >= 1, "the call found the key in progress");
        await PassUntilAsync(call, Ttl / 4, Ttl * 3);

        var thrown = await FluentActions.Awaiting(() => call.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<IdempotencyInProgressException>();
        thrown.Which.RetryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(100));
        executions.Should().Be(0);
        store.Claims.Should().BeGreaterThan(1, "the waiter claims again on each poll or signal");
    }

    [Fact]
    public async Task ExecuteAsync_OwnerDiedMidAction_AWaiterClaimsAfterTheLeaseAndRunsTheAction()
    {
        var key = Unique.Name();

        // The owner claims with a short lease and dies: nobody heartbeats, completes or releases.
        var dead = await Backend.CreateStore().TryClaimAsync(key, "fp", Ttl);
        dead.Outcome.Should().Be(ClaimOutcome.Claimed);
        var (executor, store) = CreateExecutor(o => o.WaitForInProgress = Ttl * 4);
        IdempotencyContext? seen = null;

        var call = executor.ExecuteWithContextAsync(key, context =>
        {
            seen = context;
            return Task.FromResult("recovered");
        }, fingerprint: "fp");
        await Eventually.TrueAsync(() => store.Claims >= 1, "the call found the key in progress");
        await PassUntilAsync(call, Ttl / 4, Ttl * 3);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        result.Value.Should().Be("recovered");
        result.Replayed.Should().BeFalse("the waiter ran the action itself");
        seen!.Attempt.Should().Be(2);
        seen.FencingToken.Should().BeGreaterThan(dead.FencingToken);
        (await Backend.CreateStore().GetAsync(key))!.Status.Should().Be(IdempotencyStatus.Succeeded);
    }

    [Fact]
    public async Task ExecuteAsync_LongAction_KeepsItsClaimByHeartbeatPastTheLease()
    {
        var key = Unique.Name();
        // On servers a longer lease: a renewal may now take up to 0.57 of it (the local deadline is
        // watched while a renewal is in flight), which a loaded test machine needs.
        var lease = Backend.IsTimeVirtual ? Ttl : Ttl * 2;
        var (executor, store) = CreateExecutor(o => o.LeaseDuration = lease);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leaseLost = false;

        var call = executor.ExecuteWithContextAsync(key, async context =>
        {
            await release.Task;
            leaseLost = context.LeaseLost.IsCancellationRequested;
            return 5;
        });
        await Eventually.TrueAsync(() => store.Claims == 1, "the action started");

        // 2.5 leases. On a fake clock in steps of a sixth: a heartbeat (every third of a lease) falls due every second
        // step, and the test waits for it to be answered there. The fake clock must never pass a deadline before the
        // renewal that moved it was taken in by the holder (on a real clock that takes microseconds; here another
        // thread could lag behind the store's answer while the test advances): the next heartbeat is only sent once
        // the previous one was taken in, so waiting for heartbeat #k proves #k-1 moved the deadline, and the old
        // deadline (0.9 lease after #k-1 was sent, three steps before #k's answer) is crossed only after that.
        // On a real clock, steps of a quarter.
        var steps = Backend.IsTimeVirtual ? 15 : 10;
        for (var i = 1; i <= steps; i++)
        {
            await Backend.PassAsync(Backend.IsTimeVirtual ? lease / 6 : lease / 4);
            if (Backend.IsTimeVirtual && i % 2 == 0)
            {
                var expected = i / 2;
                await Eventually.TrueAsync(() => store.HeartbeatsAnswered >= expected, $"heartbeat #{expected} ran");
            }
        }

        (await Backend.CreateStore().TryClaimAsync(key, "-", Ttl)).Outcome.Should().Be(ClaimOutcome.InProgress, "the heartbeat kept the claim 2.5 leases after it was taken");
        store.Heartbeats.Should().BeGreaterThanOrEqualTo(2);
        release.SetResult();
        (await call).Value.Should().Be(5);
        leaseLost.Should().BeFalse();
    }

    [Fact]
    public async Task ExecuteWithContextAsync_GivesTheClaimsFencingTokenAndAttempt()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor();
        IdempotencyContext? seen = null;

        await executor.ExecuteWithContextAsync(key, new Charge("a", 1m), (charge, context) =>
        {
            seen = context;
            return Task.FromResult(charge.Amount);
        });

        var record = await Backend.CreateStore().GetAsync(key);
        seen!.Key.Should().Be(key);
        seen.Attempt.Should().Be(1);
        seen.FencingToken.Should().Be(record!.FencingToken).And.BePositive();
        seen.CancellationToken.IsCancellationRequested.Should().BeFalse();
    }
}
