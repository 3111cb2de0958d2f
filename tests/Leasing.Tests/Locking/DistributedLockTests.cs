using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Locking;

public sealed class DistributedLockTests
{
    [Fact]
    public void Constructor_BadOptions_ThrowsNamingTheOption()
    {
        FluentActions.Invoking(() => new DistributedLock(new InMemoryLeaseStore(), new DistributedLockOptions { LeaseDuration = TimeSpan.Zero }))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*DistributedLockOptions.LeaseDuration*");
        FluentActions.Invoking(() => new DistributedLock(new InMemoryLeaseStore(), new DistributedLockOptions { RetryMaxDelay = TimeSpan.FromTicks(1) }))
            .Should().Throw<ArgumentException>().WithMessage("*DistributedLockOptions.RetryMaxDelay*");
    }

    [Fact]
    public async Task AddDistributedLock_RegistersOneReplicaAndValidatesOptionsAtStart()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddDistributedLock(o => o.LeaseDuration = TimeSpan.FromSeconds(10));
        await using (var provider = services.BuildServiceProvider())
        {
            var replica = provider.GetRequiredService<DistributedLock>();
            replica.Should().BeSameAs(provider.GetRequiredService<DistributedLock>());
            (await replica.TryRunExclusiveAsync("k", (h, ct) => Task.FromResult(h.Key))).Value.Should().Be("k");
        }

        var bad = new ServiceCollection();
        bad.AddInMemoryLeasing();
        bad.AddDistributedLock(o => o.LeaseDuration = TimeSpan.FromDays(2));
        await using var badProvider = bad.BuildServiceProvider();
        FluentActions.Invoking(() => badProvider.GetRequiredService<IOptions<DistributedLockOptions>>().Value)
            .Should().Throw<OptionsValidationException>().WithMessage("*DistributedLockOptions.LeaseDuration*");
    }

    [Fact]
    public async Task TimeLeft_CountsDownToTheLocalDeadline_ZeroOnceReleased()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = new FlakyLeaseStore(new InMemoryLeaseStore(time));
        var locks = new DistributedLock(store, new DistributedLockOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        var handle = (await locks.TryAcquireAsync("k"))!;
        handle.TimeLeft.Should().Be(TimeSpan.FromSeconds(27), "acquire sent + ttl - ttl/10");

        time.Advance(TimeSpan.FromSeconds(4));
        handle.TimeLeft.Should().Be(TimeSpan.FromSeconds(23));

        (await handle.ReleaseAsync()).Should().BeTrue();
        handle.TimeLeft.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task ExpiresAt_IsTheLeaseEndOnTheBackendsClock_MovedByARenewal()
    {
        var start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var time = new FakeTimeProvider(start);
        var locks = new DistributedLock(new InMemoryLeaseStore(time), new DistributedLockOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        await using var handle = (await locks.TryAcquireAsync("k"))!;
        handle.ExpiresAt.Should().Be(start + TimeSpan.FromSeconds(30));

        time.Advance(TimeSpan.FromSeconds(10)); // a third of the lease: the heartbeat renews
        await Eventually.TrueAsync(() => handle.ExpiresAt == start + TimeSpan.FromSeconds(40), "the renewal moved the end", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TryRunExclusiveAsync_BackendUnreachable_CancelsTheWorkAtTheLocalDeadline()
    {
        var time = new FakeTimeProvider();
        var store = new FlakyLeaseStore(new InMemoryLeaseStore(time));
        var replica = new DistributedLock(store, new DistributedLockOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = replica.TryRunExclusiveAsync("k", async (handle, ct) =>
        {
            inside.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });
        await inside.Task;
        store.Down = true;

        // Renewals fail from now on; the holder must assume the worst at ttl - ttl/10.
        for (var i = 0; i < 30 && !run.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(run, Task.Delay(5));
        }

        await FluentActions.Awaiting(() => run.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        store.Renews.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task DroppedHandle_GuardFreesTheKeyOnceTheLeaseIsLost()
    {
        var time = new FakeTimeProvider();
        var replica = new DistributedLock(new InMemoryLeaseStore(time), new DistributedLockOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        await AcquireAndDropAsync(replica);
        GC.Collect();
        GC.WaitForPendingFinalizers();

        (await replica.TryRunExclusiveAsync("k", (h, ct) => Task.FromResult(1))).Skipped.Should().Be(LockSkipReason.InProgressHere);
        for (var i = 0; i < 40; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }

        await Eventually.TrueAsync(() => replica.TryAcquireAsync("k").AsTask().GetAwaiter().GetResult() is not null, "the abandoned lease expired and the guard let go");
    }

    private static async Task AcquireAndDropAsync(DistributedLock replica) =>
        (await replica.TryAcquireAsync("k")).Should().NotBeNull();
}
