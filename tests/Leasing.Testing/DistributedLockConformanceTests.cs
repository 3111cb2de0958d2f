using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

/// <summary>
/// The <see cref="DistributedLock"/> behaviour of docs/architecture.md#distributed-lock over a real <see cref="ILeaseStore"/>,
/// written once and run unchanged on every backend: a backend's test project subclasses it and
/// supplies <see cref="CreateBackendAsync"/>. "Another replica" is another lock over another store
/// object. Time passes through <see cref="LeaseBackend.PassAsync"/>.
/// </summary>
public abstract class DistributedLockConformanceTests : IAsyncLifetime
{
    /// <summary>A lease that outlives any test.</summary>
    protected static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(5);

    private LeaseBackend? backend;

    /// <summary>The backend under test, created per test.</summary>
    protected LeaseBackend Backend => backend ?? throw new InvalidOperationException("The backend is created in InitializeAsync.");

    /// <summary>The backend's unit of lease time.</summary>
    protected TimeSpan Ttl => Backend.Ttl;

    /// <summary>Creates the backend for one test; it is disposed after the test.</summary>
    protected abstract ValueTask<LeaseBackend> CreateBackendAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync() => backend = await CreateBackendAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (backend is not null)
        {
            await backend.DisposeAsync();
        }
    }

    /// <summary>A lock (one replica) over a new store object, counting its acquire round trips.</summary>
    protected (DistributedLock Lock, FlakyLeaseStore Store) CreateReplica(TimeSpan? leaseDuration = null)
    {
        var store = new FlakyLeaseStore(Backend.CreateStore());
        var options = new DistributedLockOptions
        {
            LeaseDuration = leaseDuration ?? LongTtl,
            RetryMinDelay = TimeSpan.FromMilliseconds(5),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
        };
        return (new DistributedLock(store, options, Backend.TimeProvider), store);
    }

    [Fact]
    public async Task TryRunExclusiveAsync_SecondCallerInThisProcess_SkipsInProgressHereWithoutARoundTrip()
    {
        var key = Unique.Name();
        var (replica, store) = CreateReplica();
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = replica.TryRunExclusiveAsync(key, async (handle, ct) =>
        {
            inside.SetResult();
            await leave.Task;
            return handle.FencingToken;
        });
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var acquiresBefore = store.Acquires;

        var second = await replica.TryRunExclusiveAsync(key, (handle, ct) => Task.FromResult(0L));

        second.Acquired.Should().BeFalse();
        second.Skipped.Should().Be(LockSkipReason.InProgressHere);
        store.Acquires.Should().Be(acquiresBefore, "the in-process guard answers without a round trip");
        (await replica.TryAcquireAsync(key)).Should().BeNull();
        leave.SetResult();
        var done = await first;
        done.Acquired.Should().BeTrue();
        done.Value.Should().BePositive();
        done.Skipped.Should().BeNull();
    }

    [Fact]
    public async Task TryRunExclusiveAsync_HeldByAnotherReplica_SkipsLockHeld()
    {
        var key = Unique.Name();
        var (holder, _) = CreateReplica();
        var (other, otherStore) = CreateReplica();
        await using var handle = await holder.TryAcquireAsync(key);
        handle.Should().NotBeNull();
        var ran = false;

        var result = await other.TryRunExclusiveAsync(key, (h, ct) =>
        {
            ran = true;
            return Task.FromResult(1);
        });

        result.Acquired.Should().BeFalse();
        result.Skipped.Should().Be(LockSkipReason.LockHeld);
        otherStore.Acquires.Should().Be(1);
        ran.Should().BeFalse();
    }

    [Fact]
    public async Task TryRunExclusiveAsync_ManyCallersOnTwoReplicas_NeverTwoInsideAtOnce()
    {
        var key = Unique.Name();
        var replicas = new[] { CreateReplica().Lock, CreateReplica().Lock };
        var inside = 0;
        var maxInside = 0;
        var ran = 0;
        var fencing = new List<long>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await replicas[worker % 2].TryRunExclusiveAsync(key, async (handle, ct) =>
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref maxInside, now);
                    lock (fencing)
                    {
                        fencing.Add(handle.FencingToken);
                    }

                    await Task.Yield();
                    Interlocked.Increment(ref ran);
                    Interlocked.Decrement(ref inside);
                    return 0;
                });
            }
        }))).WaitAsync(TimeSpan.FromMinutes(2));

        maxInside.Should().Be(1, "the lock admits one writer at a time across replicas");
        ran.Should().BeGreaterThan(1, "the lock was taken again after each release");
        fencing.Should().OnlyHaveUniqueItems("every holder gets a new fencing token");
        fencing.Should().BeInAscendingOrder("fencing tokens grow with each holder");
    }

    [Fact]
    public async Task TryRunExclusiveAsync_WorkThrows_ReleasesAndPropagates()
    {
        var key = Unique.Name();
        var (replica, _) = CreateReplica();
        var (other, _) = CreateReplica();

        await FluentActions.Awaiting(() => replica.TryRunExclusiveAsync<int>(key, (h, ct) => throw new InvalidOperationException("boom")))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("boom");

        (await other.TryRunExclusiveAsync(key, (h, ct) => Task.FromResult(1))).Acquired.Should().BeTrue("the lock was released in finally");
        (await replica.TryRunExclusiveAsync(key, (h, ct) => Task.FromResult(1))).Acquired.Should().BeTrue("the in-process guard was cleared too");
    }

    [Fact]
    public async Task TryRunExclusiveAsync_LeaseTakenAway_CancelsTheWork()
    {
        var key = Unique.Name();
        var (replica, _) = CreateReplica(Ttl);
        var inside = new TaskCompletionSource<LockHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledByLoss = false;

        var run = replica.TryRunExclusiveAsync(key, async (handle, ct) =>
        {
            inside.SetResult(handle);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelledByLoss = handle.LeaseLost.IsCancellationRequested;
                throw;
            }

            return 0;
        });
        var held = await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // An operator frees the key and another writer takes it: the next renewal finds the lease lost.
        var store = Backend.CreateStore();
        (await store.ForceReleaseAsync(key)).Should().BeTrue();
        (await store.TryAcquireAsync(key, LongTtl)).Should().NotBeNull();
        for (var i = 0; i < 8 && !run.IsCompleted; i++)
        {
            await Backend.PassAsync(Ttl / 4);
            await Task.WhenAny(run, Task.Delay(Backend.IsTimeVirtual ? 20 : 1));
        }

        await FluentActions.Awaiting(() => run.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<OperationCanceledException>();
        cancelledByLoss.Should().BeTrue("the work's token fired because the lease was lost");
        held.LeaseLost.IsCancellationRequested.Should().BeTrue();
    }

    [Fact]
    public async Task AcquireAsync_HeldElsewhereForTheWholeTimeout_ThrowsTimeout()
    {
        var key = Unique.Name();
        var (holder, _) = CreateReplica();
        var (waiter, _) = CreateReplica();
        await using var handle = await holder.TryAcquireAsync(key);

        var acquire = waiter.AcquireAsync(key, Ttl).AsTask();
        for (var i = 0; i < 40 && !acquire.IsCompleted; i++)
        {
            await Backend.PassAsync(Ttl / 10);
            await Task.WhenAny(acquire, Task.Delay(Backend.IsTimeVirtual ? 10 : 1));
        }

        await FluentActions.Awaiting(() => acquire.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<TimeoutException>();
    }

    [Fact]
    public async Task AcquireAsync_ReleasedByAnotherReplica_GetsTheLock()
    {
        var key = Unique.Name();
        var (holder, _) = CreateReplica();
        var (waiter, _) = CreateReplica();
        var handle = await holder.TryAcquireAsync(key);

        var acquire = waiter.AcquireAsync(key, LongTtl).AsTask();
        (await handle!.ReleaseAsync()).Should().BeTrue();
        for (var i = 0; i < 200 && !acquire.IsCompleted; i++)
        {
            await Backend.PassAsync(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(acquire, Task.Delay(Backend.IsTimeVirtual ? 5 : 1));
        }

        await using var taken = await acquire.WaitAsync(TimeSpan.FromSeconds(30));
        taken.FencingToken.Should().BeGreaterThan(handle.FencingToken);
    }

    [Fact]
    public async Task AcquireAsync_ReleasedInThisProcess_WakesTheWaiterWithoutTimePassing()
    {
        var key = Unique.Name();
        var (replica, _) = CreateReplica();
        var handle = await replica.TryAcquireAsync(key);

        var acquire = replica.AcquireAsync(key, Timeout.InfiniteTimeSpan).AsTask();
        acquire.IsCompleted.Should().BeFalse();
        await handle!.DisposeAsync();

        await using var taken = await acquire.WaitAsync(TimeSpan.FromSeconds(30));
        taken.Key.Should().Be(key);
    }

    [Fact]
    public async Task AnyCall_BadKeyOrTimeout_ThrowsArgumentExceptionBeforeIo()
    {
        var (replica, store) = CreateReplica();

        await FluentActions.Awaiting(() => replica.TryAcquireAsync(" ").AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("key");
        await FluentActions.Awaiting(() => replica.AcquireAsync(string.Empty, TimeSpan.Zero).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("key");
        await FluentActions.Awaiting(() => replica.AcquireAsync("k", TimeSpan.FromSeconds(-2)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("timeout");
        await FluentActions.Awaiting(() => replica.TryRunExclusiveAsync(new string('k', 600), (h, ct) => Task.FromResult(1))).Should().ThrowAsync<ArgumentException>().WithParameterName("key");
        store.Acquires.Should().Be(0);
    }

    [Fact]
    public async Task LockHandle_ToString_DoesNotPrintTheOwnerToken()
    {
        var key = Unique.Name();
        var (replica, _) = CreateReplica();
        await using var handle = await replica.TryAcquireAsync(key);

        var state = (await Backend.CreateStore().InspectAsync([key])).Single();
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(handle!.FencingToken);
        handle.ToString().Should().Contain(key).And.Contain(handle.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
        handle.ToString().Replace(key, string.Empty, StringComparison.Ordinal).Should().NotMatchRegex("[0-9a-f]{32}", "owner tokens (32 hex digits) must not reach logs");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [Fact]
    public async Task TrySetStateAsync_ZombieLockHolderPausedPastItsLease_IsRefusedAndLeaseLostFires_Issue13()
    {
        // A's clock stands still (a paused process: no renewal, no local deadline) while its lease runs out.
        var key = Unique.Name();
        var paused = new DistributedLock(
            Backend.CreateStore(),
            new DistributedLockOptions { LeaseDuration = Ttl },
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
        var zombie = await paused.TryAcquireAsync(key);
        zombie.Should().NotBeNull();
        (await zombie!.TrySetStateAsync(5L)).Should().BeTrue();

        await Backend.PassAsync(Ttl * 1.5);
        var (replica, _) = CreateReplica(Ttl);
        await using var next = await replica.TryAcquireAsync(key);
        next.Should().NotBeNull();
        (await next!.GetStateAsync<long>()).Should().Be(5);
        (await next.TrySetStateAsync(6L)).Should().BeTrue();

        (await zombie.TrySetStateAsync(7L)).Should().BeFalse("the zombie's write must never land");
        zombie.LeaseLost.IsCancellationRequested.Should().BeTrue("a refused write means the lock is lost");

        var stored = await next.GetStateBytesAsync();
        System.Text.Encoding.UTF8.GetString(stored!.Data.Span).Should().Be("6");
        stored.FencingToken.Should().Be(next.FencingToken).And.BeGreaterThan(zombie.FencingToken);
    }
}
