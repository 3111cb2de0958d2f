using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Faults between the pool and its backend (issue 10): a cancelled acquire whose command already
// ran strands nothing; a blip only delays waiters; a long outage fails them with the last error.
public abstract partial class ChannelPoolConformanceTests
{
    /// <summary>The acquire paths a caller can cancel, by name.</summary>
    public static TheoryData<string> CancellablePaths => new() { "AcquireAsync", "TryAcquireAsync", "TryAcquireChannelAsync", "DistributedLock.TryAcquireAsync" };

    [Theory]
    [MemberData(nameof(CancellablePaths))]
    public async Task Acquire_CallerCancelsWhileTheGrantIsInFlight_TheGrantIsReleasedAtOnce_Issue10(string path)
    {
        // The backend grants, the reply is late, the caller gives up: the grant must not stay held,
        // unrenewed, for a whole lease (a long one here, so only a release can free it in time).
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var longLease = TimeSpan.FromMinutes(5);
        var pool = CreatePool(name, ["only"], o => o.LeaseDuration = longLease, store: faulty);
        var other = CreatePool(name, ["only"], o => o.LeaseDuration = longLease);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lockKey = Unique.Name();
        var locks = new DistributedLock(faulty, new DistributedLockOptions { LeaseDuration = longLease }, Backend.TimeProvider);
        if (path != "DistributedLock.TryAcquireAsync")
        {
            (await pool.GetStatusAsync()).Should().ContainSingle("the member list is written before the fault starts");
        }

        faulty.HoldReplies = gate.Task;
        using var cts = new CancellationTokenSource();
        Task call = path switch
        {
            "AcquireAsync" => pool.AcquireAsync(cts.Token).AsTask(),
            "TryAcquireAsync" => pool.TryAcquireAsync(cts.Token).AsTask(),
            "TryAcquireChannelAsync" => pool.TryAcquireChannelAsync("only", cts.Token).AsTask(),
            _ => locks.TryAcquireAsync(lockKey, cts.Token).AsTask(),
        };
        var granted = await faulty.FirstHeldGrant.WaitAsync(TimeSpan.FromSeconds(30));
        granted.Should().NotBeNull("the backend granted before the reply was held");

        await cts.CancelAsync();
        await call.Awaiting(c => c).Should().ThrowAsync<OperationCanceledException>();
        gate.SetResult();

        if (path == "DistributedLock.TryAcquireAsync")
        {
            var otherLocks = new DistributedLock(Backend.CreateStore(), new DistributedLockOptions { LeaseDuration = longLease }, Backend.TimeProvider);
            LockHandle? handle = null;
            await Eventually.TrueAsync(() => (handle = otherLocks.TryAcquireAsync(lockKey).AsTask().GetAwaiter().GetResult()) is not null, "the abandoned lock was released", TimeSpan.FromSeconds(10));
            await handle!.DisposeAsync();
        }
        else
        {
            ChannelLease? lease = null;
            await Eventually.TrueAsync(() => (lease = other.TryAcquireAsync().AsTask().GetAwaiter().GetResult()) is not null, "the abandoned channel was released", TimeSpan.FromSeconds(10));
            lease!.FencingToken.Should().BeGreaterThan(granted!.FencingToken);
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task AcquireAsync_GrantClaimedForAWaiterThatLeft_ReachesTheNextWithTheClaimsDeadline()
    {
        // The poller claims for waiter A; A gives up while the reply is on its way; B, who asked only later,
        // gets the grant. B's deadline (TimeLeft, LeaseLost) counts from when the claim was sent, not from
        // B's call: the backend's lease began then.
        var (name, faulty, clock, lease, pool, other) = OneChannelBehindAFaultyStore();
        var blocker = await other.AcquireAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var renewals = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        faulty.StallRenewals = renewals.Task;
        try
        {
            using var leaving = new CancellationTokenSource();
            var first = pool.AcquireAsync(leaving.Token).AsTask();
            await Eventually.TrueAsync(() => faulty.Acquires >= 2, "A queued and the poller tried", TimeSpan.FromSeconds(10));
            faulty.HoldGrants = gate.Task;
            await blocker.DisposeAsync();
            var granted = await faulty.FirstHeldGrant.WaitAsync(TimeSpan.FromSeconds(30));
            granted.Should().NotBeNull("the poller's claim ran on the backend");
            await leaving.CancelAsync();
            await first.Awaiting(t => t).Should().ThrowAsync<OperationCanceledException>();

            // B queues at once (the poller runs, so no first try), behind A's cancelled place.
            clock.Jump(lease / 2);
            var second = pool.AcquireAsync().AsTask();
            gate.SetResult();

            await using var delivered = await second.WaitAsync(TimeSpan.FromSeconds(30));
            delivered.FencingToken.Should().Be(granted!.FencingToken, "the claim made for A went to B");
            delivered.TimeLeft.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo((lease * 0.9) - (lease / 2), "the deadline counts from the claim's sending");
            delivered.LeaseLost.IsCancellationRequested.Should().BeFalse();

            clock.Jump((lease * 0.4) + TimeSpan.FromSeconds(1));
            delivered.TimeLeft.Should().Be(TimeSpan.Zero, "the claim's deadline passed unconfirmed (renewals are stalled)");
        }
        finally
        {
            gate.TrySetResult();
            renewals.TrySetResult();
        }
    }

    // A pool of one channel over a faulty store and a clock that jumps (leases of 5 minutes, waits without a
    // limit, a short busy delay), and a plain pool of the same name beside it.
    private (string Name, FaultyLeaseStore Faulty, JumpingTimeProvider Clock, TimeSpan Lease, ChannelPool Pool, ChannelPool Other) OneChannelBehindAFaultyStore()
    {
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var clock = new JumpingTimeProvider();
        var lease = TimeSpan.FromMinutes(5);
        var pool = new ChannelPool(
            faulty,
            new ChannelPoolOptions { Name = name, Channels = ["only"], LeaseDuration = lease, AcquireTimeout = TimeSpan.FromHours(1), RetryMinDelay = TimeSpan.FromMilliseconds(2), RetryMaxDelay = TimeSpan.FromMilliseconds(20) },
            clock);
        _pools.Add(pool);
        return (name, faulty, clock, lease, pool, CreatePool(name, ["only"], o => o.LeaseDuration = lease));
    }

    /// <summary>The acquire paths whose reply can arrive late, by name ("AcquireAsync.Poller": the reply to the poller's try for a queued waiter).</summary>
    public static TheoryData<string> LateReplyPaths => new() { "AcquireAsync", "AcquireAsync.Poller", "TryAcquireAsync", "TryAcquireChannelAsync", "DistributedLock.TryAcquireAsync" };

    [Theory]
    [MemberData(nameof(LateReplyPaths))]
    public async Task Acquire_GrantAnsweredPastItsLocalDeadline_IsNeverHandedOutAndIsReleased_Issue10(string path)
    {
        // The backend grants; the app handles the reply only after its own clock passed the lease's
        // local deadline (a paused process, a very late reply). By then the lease may have expired on
        // the server and gone to another holder: using it would make two holders. The backend's clock
        // does not jump here, so the grant is still held there and only a release frees it in time.
        var (name, faulty, clock, lease, pool, other) = OneChannelBehindAFaultyStore();
        var lockKey = Unique.Name();
        var locks = new DistributedLock(faulty, new DistributedLockOptions { LeaseDuration = lease }, clock);
        (await pool.GetStatusAsync()).Should().ContainSingle("the member list is written before the fault starts");

        ChannelLease? blocker = null;
        if (path == "AcquireAsync.Poller")
        {
            // The channel is busy, so the caller queues and the poller's try is the one answered late.
            blocker = await other.TryAcquireAsync();
            blocker.Should().NotBeNull();
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (blocker is null)
        {
            faulty.HoldReplies = gate.Task;
        }

        try
        {
            Task<object?> call = path switch
            {
                "AcquireAsync" or "AcquireAsync.Poller" => Box(pool.AcquireAsync()),
                "TryAcquireAsync" => Box(pool.TryAcquireAsync()),
                "TryAcquireChannelAsync" => Box(pool.TryAcquireChannelAsync("only")),
                _ => Box(locks.TryAcquireAsync(lockKey)),
            };
            if (blocker is not null)
            {
                await Eventually.TrueAsync(() => faulty.Acquires >= 2, "the caller queued and the poller tried", TimeSpan.FromSeconds(10));
                faulty.HoldGrants = gate.Task;
                await blocker.DisposeAsync();
            }

            var granted = await faulty.FirstHeldGrant.WaitAsync(TimeSpan.FromSeconds(30));
            granted.Should().NotBeNull("the backend granted before the reply was held");
            clock.Jump(lease);
            gate.SetResult();

            if (path.StartsWith("AcquireAsync", StringComparison.Ordinal))
            {
                // The waiter keeps waiting and gets a fresh grant, never the late one.
                var delivered = (ChannelLease)(await call.WaitAsync(TimeSpan.FromSeconds(30)))!;
                delivered.FencingToken.Should().BeGreaterThan(granted!.FencingToken, "the late grant was given back and a new one taken");
                delivered.LeaseLost.IsCancellationRequested.Should().BeFalse();
                await delivered.DisposeAsync();
                return;
            }

            await call.Awaiting(c => c).Should().ThrowAsync<LeaseStoreUnavailableException>("a grant too late to use is a failed round trip, not a lease");
            if (path == "DistributedLock.TryAcquireAsync")
            {
                var otherLocks = new DistributedLock(Backend.CreateStore(), new DistributedLockOptions { LeaseDuration = lease }, Backend.TimeProvider);
                LockHandle? handle = null;
                await Eventually.TrueAsync(() => (handle = otherLocks.TryAcquireAsync(lockKey).AsTask().GetAwaiter().GetResult()) is not null, "the late lock grant was released", TimeSpan.FromSeconds(10));
                handle!.FencingToken.Should().BeGreaterThan(granted!.FencingToken);
                await handle.DisposeAsync();
            }
            else
            {
                ChannelLease? taken = null;
                await Eventually.TrueAsync(() => (taken = other.TryAcquireAsync().AsTask().GetAwaiter().GetResult()) is not null, "the late grant was released", TimeSpan.FromSeconds(10));
                taken!.FencingToken.Should().BeGreaterThan(granted!.FencingToken);
                await taken.DisposeAsync();
            }
        }
        finally
        {
            // A failed assertion must not leave an acquire held forever (the pool's dispose waits for it).
            gate.TrySetResult();
        }

        static async Task<object?> Box<T>(ValueTask<T> pending) => await pending;
    }

    [Fact]
    public async Task AcquireAsync_OutageShorterThanTheTolerance_WaitersStillGetTheChannel_Issue10()
    {
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var holderPool = CreatePool(name, ["only"]);
        var pool = CreatePool(name, ["only"], o => o.OutageTolerance = TimeSpan.FromMinutes(5), store: faulty);
        var held = await holderPool.AcquireAsync();
        (await pool.GetStatusAsync()).Should().ContainSingle();

        var waiter = pool.AcquireAsync().AsTask();
        faulty.Down = true;
        var sawOutage = Task.Run(() => Eventually.TrueAsync(() => faulty.Failures >= 2, "the poller met the outage"));
        await PumpUntilAsync(sawOutage);
        await sawOutage;
        waiter.IsCompleted.Should().BeFalse("a blip only delays the waiter");

        await held.ReleaseAsync();
        faulty.Down = false;
        await PumpUntilAsync(waiter);
        var lease = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        lease.ChannelId.Should().Be("only");
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_OutageLongerThanTheTolerance_FailsEveryWaiterWithTheLastError_Issue10()
    {
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var holderPool = CreatePool(name, ["only"]);
        var pool = CreatePool(name, ["only"], o => o.OutageTolerance = Backend.Ttl, store: faulty);
        await using var held = await holderPool.AcquireAsync();
        (await pool.GetStatusAsync()).Should().ContainSingle();

        var waiters = Enumerable.Range(0, 3).Select(_ => pool.AcquireAsync().AsTask()).ToArray();
        faulty.Down = true;
        var all = Task.WhenAll(waiters);
        await PumpUntilAsync(all);

        foreach (var waiter in waiters)
        {
            var thrown = await waiter.Awaiting(w => w).Should().ThrowAsync<LeaseStoreUnavailableException>();
            thrown.Which.InnerException.Should().BeOfType<LeaseStoreUnavailableException>("the last error of the outage is inside");
        }
    }

    [Fact]
    public async Task DistributedLockAcquireAsync_OutageShorterThanTheTolerance_StillGetsTheLock_Issue10()
    {
        var key = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var holder = new DistributedLock(Backend.CreateStore(), new DistributedLockOptions { LeaseDuration = Backend.Ttl * 20 }, Backend.TimeProvider);
        var locks = new DistributedLock(faulty, new DistributedLockOptions { LeaseDuration = Backend.Ttl * 20, OutageTolerance = TimeSpan.FromMinutes(5), RetryMinDelay = TimeSpan.FromMilliseconds(2), RetryMaxDelay = TimeSpan.FromMilliseconds(20) }, Backend.TimeProvider);
        var held = await holder.TryAcquireAsync(key);
        held.Should().NotBeNull();

        var waiter = locks.AcquireAsync(key, TimeSpan.FromMinutes(5)).AsTask();
        faulty.Down = true;
        var sawOutage = Task.Run(() => Eventually.TrueAsync(() => faulty.Failures >= 2, "the waiting acquire met the outage"));
        await PumpUntilAsync(sawOutage);
        await sawOutage;
        waiter.IsCompleted.Should().BeFalse("a blip only delays the acquire");

        await held!.DisposeAsync();
        faulty.Down = false;
        await PumpUntilAsync(waiter);
        await using var handle = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        handle.Key.Should().Be(key);
    }

    [Fact]
    public async Task AcquireAsync_OneCommandStallsLongerThanTheTolerance_IsOneFailureAndRetried_Issue10()
    {
        // A command that stalls for the whole command timeout and then fails is one failed answer,
        // not an outage that lasted the stall: the waiters are not failed on it, the pool retries.
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var holderPool = CreatePool(name, ["only"]);
        var pool = CreatePool(name, ["only"], o => o.OutageTolerance = Backend.Ttl, store: faulty);
        var held = await holderPool.AcquireAsync();
        (await pool.GetStatusAsync()).Should().ContainSingle();

        var waiter = pool.AcquireAsync().AsTask();
        var polling = Task.Run(() => Eventually.TrueAsync(() => faulty.Acquires >= 2, "the waiter queued and the poller polls"));
        await PumpUntilAsync(polling);
        await polling;

        // The poller's next command stalls for two tolerances, then fails.
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = faulty.Acquires;
        faulty.StallThenFail = stall.Task;
        var stalled = Task.Run(() => Eventually.TrueAsync(() => faulty.Acquires > sent, "a poll was sent and stalls"));
        await PumpUntilAsync(stalled);
        await stalled;
        await Backend.PassAsync(Backend.Ttl * 2);
        faulty.StallThenFail = null;
        await held.ReleaseAsync();
        stall.SetResult();

        await PumpUntilAsync(waiter);
        await using var lease = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        lease.ChannelId.Should().Be("only");
    }

    [Fact]
    public async Task AcquireAsync_FirstTryNeverAnswers_FailsWithinTheAcquireTimeoutNotTheStall_Issue10()
    {
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(name, ["only"], o => o.AcquireTimeout = Backend.Ttl, store: faulty);
        (await pool.GetStatusAsync()).Should().ContainSingle();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        faulty.StallThenFail = never.Task;

        var call = pool.AcquireAsync().AsTask();
        await PumpUntilAsync(call);

        await call.Awaiting(c => c.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<LeaseStoreUnavailableException>("a stalled backend is an outage, reported within the AcquireTimeout");
        never.SetResult();
    }

    [Fact]
    public async Task DistributedLockAcquireAsync_TryNeverAnswers_FailsWithinItsTimeout_Issue10()
    {
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var locks = new DistributedLock(faulty, new DistributedLockOptions { LeaseDuration = Backend.Ttl * 20 }, Backend.TimeProvider);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        faulty.StallThenFail = never.Task;

        var call = locks.AcquireAsync(Unique.Name(), Backend.Ttl).AsTask();
        await PumpUntilAsync(call);

        await call.Awaiting(c => c.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<LeaseStoreUnavailableException>();
        never.SetResult();
    }

    [Fact]
    public async Task DistributedLockAcquireAsync_HeldThenTheLastTryStalls_IsATimeoutNotAnOutage()
    {
        // The backend answered "held" (the lock is held elsewhere); then a try stalls past the timeout.
        // The lock stayed held as far as anyone knows: TimeoutException, with the stalled try inside.
        var key = Unique.Name();
        var holder = new DistributedLock(Backend.CreateStore(), new DistributedLockOptions { LeaseDuration = Backend.Ttl * 20 }, Backend.TimeProvider);
        await using var held = await holder.TryAcquireAsync(key);
        held.Should().NotBeNull();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var locks = new DistributedLock(faulty, new DistributedLockOptions { LeaseDuration = Backend.Ttl * 20, OutageTolerance = TimeSpan.FromHours(1) }, Backend.TimeProvider);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var call = locks.AcquireAsync(key, Backend.Ttl).AsTask();
            for (var i = 0; i < 500 && faulty.Acquires < 2; i++)
            {
                await Backend.PassAsync(TimeSpan.FromMilliseconds(2));
                await Task.Delay(Backend.IsTimeVirtual ? 2 : 0);
            }

            faulty.Acquires.Should().BeGreaterThanOrEqualTo(2, "the first try answered held and a second one was sent");
            faulty.StallThenFail = never.Task;
            await PumpUntilAsync(call);

            await call.Awaiting(c => c.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<TimeoutException>();
        }
        finally
        {
            never.TrySetResult();
        }
    }

    /// <summary>Lets backend time pass in small steps until <paramref name="task"/> ends (at most a minute of steps).</summary>
    private async Task PumpUntilAsync(Task task)
    {
        for (var i = 0; i < 3000 && !task.IsCompleted; i++)
        {
            await Backend.PassAsync(TimeSpan.FromMilliseconds(20));
            await Task.WhenAny(task, Task.Delay(Backend.IsTimeVirtual ? 2 : 0));
        }
    }
}
