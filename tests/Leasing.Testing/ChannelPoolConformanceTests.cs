using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

/// <summary>
/// The ChannelPool behaviours every backend must show, written once. A backend's test project
/// subclasses this and supplies <see cref="CreateBackendAsync"/>.
/// </summary>
public abstract partial class ChannelPoolConformanceTests : IAsyncLifetime
{
    private readonly List<ChannelPool> _pools = [];

    /// <summary>The backend of the current test.</summary>
    protected LeaseBackend Backend { get; private set; } = null!;

    /// <summary>Creates the backend for one test.</summary>
    protected abstract ValueTask<LeaseBackend> CreateBackendAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync() => Backend = await CreateBackendAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        foreach (var pool in _pools)
        {
            await pool.DisposeAsync();
        }

        await Backend.DisposeAsync();
    }

    /// <summary>Creates a pool over a new store object (a new app instance) on the backend.</summary>
    protected ChannelPool CreatePool(string name, IEnumerable<string> channels, Action<ChannelPoolOptions>? configure = null, ILeaseStore? store = null, TimeProvider? time = null)
    {
        var options = new ChannelPoolOptions
        {
            Name = name,
            Channels = channels.ToList(),
            LeaseDuration = Backend.Ttl,
            AcquireTimeout = Backend.Ttl * 20,
            Cooldown = Backend.Ttl,
            RetryMinDelay = TimeSpan.FromMilliseconds(2),
            RetryMaxDelay = TimeSpan.FromMilliseconds(20),
        };
        configure?.Invoke(options);
        var pool = new ChannelPool(store ?? Backend.CreateStore(), options, time ?? Backend.TimeProvider);
        _pools.Add(pool);
        return pool;
    }

    private static string[] Channels(int count) => Enumerable.Range(0, count).Select(i => $"ch-{i:D3}").ToArray();

    [Fact]
    public async Task AcquireAsync_48WorkersOver16Channels_NeverTwoHoldersOfAChannel()
    {
        var name = Unique.Name();
        var store = Backend.CreateStore();
        var pool = CreatePool(name, Channels(16), store: store);
        var holders = new ConcurrentDictionary<string, int>();
        var violations = 0;
        var pairs = 0;
        const int Workers = 48;
        const int CyclesPerWorker = 15;

        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < CyclesPerWorker; i++)
            {
                var lease = await pool.AcquireAsync();
                if (holders.AddOrUpdate(lease.ChannelId, 1, (_, n) => n + 1) > 1)
                {
                    Interlocked.Increment(ref violations);
                }

                await Task.Yield();
                holders.AddOrUpdate(lease.ChannelId, 0, (_, n) => n - 1);
                (await lease.ReleaseAsync()).Should().BeTrue("the lease was held until released");
                Interlocked.Increment(ref pairs);
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));

        violations.Should().Be(0);
        pairs.Should().Be(Workers * CyclesPerWorker);
        holders.Values.Should().OnlyContain(n => n == 0);
    }

    [Fact]
    public async Task AcquireAsync_SequentialOnFiveChannels_AnyFiveConsecutiveAreDistinct()
    {
        var pool = CreatePool(Unique.Name(), Channels(5));
        var order = new List<string>();
        for (var i = 0; i < 17; i++)
        {
            await using var lease = await pool.AcquireAsync();
            order.Add(lease.ChannelId);
        }

        for (var i = 0; i + 5 <= order.Count; i++)
        {
            order.Skip(i).Take(5).Should().OnlyHaveUniqueItems($"acquisitions {i}..{i + 4} must rotate over all five channels (order: {string.Join(",", order)})");
        }
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_ChannelBlockedUntilCooldownPasses_ThenBackWithHigherFencingToken()
    {
        var pool = CreatePool(Unique.Name(), Channels(1));
        var first = await pool.AcquireAsync();
        var channel = first.ChannelId;
        var token = first.FencingToken;

        (await first.ReleaseWithCooldownAsync(Backend.Ttl)).Should().BeTrue();
        (await pool.TryAcquireAsync()).Should().BeNull("the channel is cooling down");
        (await pool.TryAcquireChannelAsync(channel)).Should().BeNull("a named acquire does not bypass the cooldown");
        (await pool.GetStatusAsync()).Single().Status.Should().Be(LeaseStatus.CoolingDown);

        await Backend.PassAsync(Backend.Ttl * 1.5);

        await using var second = await pool.TryAcquireAsync();
        second.Should().NotBeNull("the cooldown has passed");
        second!.ChannelId.Should().Be(channel);
        second.FencingToken.Should().BeGreaterThan(token);
        (await first.RenewAsync()).Should().BeFalse("the cooled-down lease is dead");
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_DefaultCooldown_UsesOptions()
    {
        var pool = CreatePool(Unique.Name(), Channels(1), o => o.Cooldown = Backend.Ttl);
        var lease = await pool.AcquireAsync();
        (await lease.ReleaseWithCooldownAsync()).Should().BeTrue();
        var status = (await pool.GetStatusAsync()).Single();
        status.Status.Should().Be(LeaseStatus.CoolingDown);
        status.ExpiresAt.Should().NotBeNull();
    }

    [Fact]
    public async Task AcquireAsync_AllHeld_ThrowsExhaustedAfterAcquireTimeoutWithCounts()
    {
        var timeout = Backend.Ttl;
        var pool = CreatePool(Unique.Name(), Channels(3), o =>
        {
            o.AcquireTimeout = timeout;
            o.LeaseDuration = Backend.Ttl * 20;
            o.Cooldown = Backend.Ttl * 20;
        });
        var a = await pool.AcquireAsync();
        var b = await pool.AcquireAsync();
        var c = await pool.AcquireAsync();
        (await c.ReleaseWithCooldownAsync()).Should().BeTrue();

        var clock = Stopwatch.StartNew();
        var waiting = pool.AcquireAsync().AsTask();
        if (Backend.IsTimeVirtual)
        {
            await Backend.PassAsync(timeout - TimeSpan.FromMilliseconds(1));
            await Task.Yield();
            waiting.IsCompleted.Should().BeFalse("the timeout has not passed yet");
            await Backend.PassAsync(TimeSpan.FromMilliseconds(2));
        }

        var thrown = await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)))
            .Should().ThrowAsync<ChannelPoolExhaustedException>();
        if (!Backend.IsTimeVirtual)
        {
            clock.Elapsed.Should().BeGreaterThanOrEqualTo(timeout - TimeSpan.FromMilliseconds(20)).And.BeLessThan(timeout + TimeSpan.FromSeconds(1));
        }

        var e = thrown.Which;
        e.Pool.Should().Be(pool.Name);
        e.Held.Should().Be(2);
        e.CoolingDown.Should().Be(1);
        e.Total.Should().Be(3);
        e.Message.Should().Contain("2 of 3 held").And.Contain("1 cooling down");
        await a.ReleaseAsync();
        await b.ReleaseAsync();
    }

    [Fact]
    public async Task AcquireAsync_ZeroTimeoutAllHeld_ThrowsAtOnce()
    {
        var pool = CreatePool(Unique.Name(), Channels(1), o => o.AcquireTimeout = TimeSpan.Zero);
        await using var held = await pool.AcquireAsync();
        await FluentActions.Awaiting(() => pool.AcquireAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)))
            .Should().ThrowAsync<ChannelPoolExhaustedException>();
    }

    [Fact]
    public async Task AcquireAsync_HolderCrashesWithoutRelease_ChannelBackAfterLeaseDuration()
    {
        var name = Unique.Name();
        var crashed = CreatePool(name, Channels(1));
        var lease = await crashed.AcquireAsync();
        var token = lease.FencingToken;
        await crashed.DisposeAsync(); // renewals stop, nothing released: the process is gone

        var survivor = CreatePool(name, Channels(1));
        (await survivor.TryAcquireAsync()).Should().BeNull("the crashed holder's lease has not expired yet");

        await Backend.PassAsync(Backend.Ttl * 1.5);

        await using var recovered = await survivor.TryAcquireAsync();
        recovered.Should().NotBeNull("the crashed holder's lease expired");
        recovered!.FencingToken.Should().BeGreaterThan(token);
    }

    [Fact]
    public async Task AutoRenew_KeepsLeasePastLeaseDuration_AndLeaseLostFiresWhenTakenAway()
    {
        var name = Unique.Name();
        var pool = CreatePool(name, Channels(1));
        var lease = await pool.AcquireAsync();
        var other = Backend.CreateStore();

        // Let three lease durations pass in steps of a third: the heartbeat must renew each time.
        var step = Backend.Ttl / 3;
        for (var i = 0; i < 9; i++)
        {
            var before = lease.ExpiresAt;
            await Backend.PassAsync(step);
            if (Backend.IsTimeVirtual)
            {
                await Eventually.TrueAsync(() => lease.ExpiresAt > before, "the heartbeat renews every LeaseDuration/3");
            }
        }

        lease.LeaseLost.IsCancellationRequested.Should().BeFalse();
        (await other.TryAcquirePoolMemberAsync(name, lease.ChannelId, Backend.Ttl)).Should().BeNull("the lease was kept alive");

        // Taken away behind its back: an operator frees it and another worker takes it.
        (await other.ForceReleaseAsync(lease.ChannelId, name)).Should().BeTrue();
        var thief = await other.TryAcquirePoolMemberAsync(name, lease.ChannelId, Backend.Ttl * 10);
        thief.Should().NotBeNull();

        await Backend.PassAsync(step);
        await FluentActions.Awaiting(() => Task.Delay(Timeout.Infinite, lease.LeaseLost).WaitAsync(TimeSpan.FromSeconds(10)))
            .Should().ThrowAsync<OperationCanceledException>("LeaseLost fires when the renewal finds the lease gone");
        (await lease.ReleaseAsync()).Should().BeFalse("the lease is no longer ours");
        (await other.InspectPoolAsync(name)).Single().Status.Should().Be(LeaseStatus.Held, "the thief's lease is untouched");
    }

    [Fact]
    public async Task AcquireAsync_WaiterWokenByRelease_GetsTheReleasedChannel()
    {
        var pool = CreatePool(Unique.Name(), Channels(1), o => o.RetryMinDelay = o.RetryMaxDelay = TimeSpan.FromHours(1));
        var held = await pool.AcquireAsync();
        var waiting = pool.AcquireAsync().AsTask();
        waiting.IsCompleted.Should().BeFalse();

        (await held.ReleaseAsync()).Should().BeTrue();

        // The poll delay is an hour: only the release signal can wake the waiter.
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        next.ChannelId.Should().Be(held.ChannelId);
        next.FencingToken.Should().BeGreaterThan(held.FencingToken);
    }

    [Fact]
    public async Task AcquireAsync_Waiters_ServedInArrivalOrder()
    {
        var name = Unique.Name();
        var pool = CreatePool(name, Channels(1), o => o.RetryMinDelay = o.RetryMaxDelay = TimeSpan.FromHours(1));
        var current = await pool.AcquireAsync();
        using var waits = new WaitCounter(name);
        var waiters = new List<Task<ChannelLease>>();
        for (var i = 0; i < 4; i++)
        {
            // On a server the first try is a round trip: arrival is when a caller has found the pool busy and queued.
            waiters.Add(pool.AcquireAsync().AsTask());
            var arrived = i + 1;
            await Eventually.TrueAsync(() => waits.Count == arrived, $"waiter {i} found the pool busy and queued");
        }

        for (var i = 0; i < 4; i++)
        {
            await current.ReleaseAsync();
            current = await waiters[i].WaitAsync(TimeSpan.FromSeconds(10));
            waiters.Skip(i + 1).Should().NotContain(w => w.IsCompleted, $"waiter {i} arrived first");
        }

        await current.ReleaseAsync();
    }

    [Fact]
    public async Task AcquireAsync_WaiterCancels_LeaseGoesToNextWaiterNotDropped()
    {
        var pool = CreatePool(Unique.Name(), Channels(1), o => o.RetryMinDelay = o.RetryMaxDelay = TimeSpan.FromHours(1));
        var held = await pool.AcquireAsync();
        using var cancel = new CancellationTokenSource();
        var leaving = pool.AcquireAsync(cancel.Token).AsTask();
        var staying = pool.AcquireAsync().AsTask();

        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => leaving.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        await held.ReleaseAsync();

        await using var next = await staying.WaitAsync(TimeSpan.FromSeconds(10));
        next.ChannelId.Should().Be(held.ChannelId);
    }

    [Fact]
    public async Task TryAcquireChannelAsync_NamedChannel_ClaimsItOrNullWhenBusyOrUnknown()
    {
        var pool = CreatePool(Unique.Name(), Channels(3));
        await using var lease = await pool.TryAcquireChannelAsync("ch-002");
        lease.Should().NotBeNull();
        lease!.ChannelId.Should().Be("ch-002");
        (await pool.TryAcquireChannelAsync("ch-002")).Should().BeNull("it is held");
        (await pool.TryAcquireChannelAsync("not-a-channel")).Should().BeNull("it is not a member");
    }

    [Fact]
    public async Task GetStatusAsync_ReportsHeldAndFreeChannels()
    {
        var pool = CreatePool(Unique.Name(), Channels(3));
        await using var lease = await pool.AcquireAsync();
        var status = await pool.GetStatusAsync();
        status.Should().HaveCount(3);
        status.Single(s => s.ChannelId == lease.ChannelId).Status.Should().Be(LeaseStatus.Held);
        status.Count(s => s.Status == LeaseStatus.Free).Should().Be(2);
    }

    [Fact]
    public async Task DisposeAsync_ReleasesTheLeaseAndIsIdempotent()
    {
        var pool = CreatePool(Unique.Name(), Channels(1));
        var lease = await pool.AcquireAsync();
        await lease.DisposeAsync();
        await lease.DisposeAsync();
        (await lease.ReleaseAsync()).Should().BeFalse("it was already released");
        await using var again = await pool.TryAcquireAsync();
        again.Should().NotBeNull();
    }

    [Fact]
    public async Task MembersVersion_NewerListRemovesChannel_OldReplicaCannotRevertIt()
    {
        var name = Unique.Name();
        var newer = CreatePool(name, ["a", "b"], o => o.MembersVersion = 2);
        await using (await newer.AcquireAsync())
        {
        }

        var older = CreatePool(name, ["a", "b", "c"], o => o.MembersVersion = 1);
        var seen = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            await using var lease = await older.AcquireAsync();
            seen.Add(lease.ChannelId);
        }

        seen.Should().BeEquivalentTo(["a", "b"], "version 1 must not revert the version 2 list");
    }

    [Fact]
    public async Task Constructor_BadOptions_ThrowNamingTheOptionBeforeAnyWrite()
    {
        var store = Backend.CreateStore();
        var name = Unique.Name();
        ChannelPoolOptions Valid() => new() { Name = name, Channels = ["a", "b"] };

        var cases = new (Action<ChannelPoolOptions> Break, string Mentions)[]
        {
            (o => o.Channels = ["a", "a"], "Channels"),
            (o => o.Channels = [], "Channels"),
            (o => o.Channels = ["a", " "], "Channels"),
            (o => o.Channels = ["a", new string('x', 600)], "Channels"),
            (o => o.LeaseDuration = TimeSpan.Zero, "LeaseDuration"),
            (o => o.LeaseDuration = TimeSpan.FromSeconds(-1), "LeaseDuration"),
            (o => o.LeaseDuration = TimeSpan.FromDays(2), "LeaseDuration"),
            (o => o.Cooldown = TimeSpan.Zero, "Cooldown"),
            (o => o.AcquireTimeout = TimeSpan.FromSeconds(-1), "AcquireTimeout"),
            (o => o.RetryMinDelay = TimeSpan.Zero, "RetryMinDelay"),
            (o => o.RetryMaxDelay = TimeSpan.FromTicks(1), "RetryMaxDelay"),
            (o => o.MembersVersion = -1, "MembersVersion"),
            (o => o.MaxAcquiresInFlight = 0, "MaxAcquiresInFlight"),
            (o => o.MaxAcquiresInFlight = 257, "MaxAcquiresInFlight"),
            (o => o.Name = "", "Name"),
        };
        foreach (var (breakIt, mentions) in cases)
        {
            var options = Valid();
            breakIt(options);
            FluentActions.Invoking(() => new ChannelPool(store, options, Backend.TimeProvider))
                .Should().Throw<ArgumentException>().WithMessage($"*{mentions}*");
        }

        (await store.GetPoolMembersAsync(name)).Should().BeEmpty("nothing is written for bad options");
    }

    [Fact]
    public async Task TryAcquireChannelAsync_BadId_ThrowsBeforeAnyWrite()
    {
        var store = Backend.CreateStore();
        var name = Unique.Name();
        var pool = CreatePool(name, Channels(2), store: store);
        await FluentActions.Awaiting(() => pool.TryAcquireChannelAsync(" ").AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("channelId");
        await FluentActions.Awaiting(() => pool.TryAcquireChannelAsync(null!).AsTask()).Should().ThrowAsync<ArgumentException>();
        (await store.GetPoolMembersAsync(name)).Should().BeEmpty("nothing is written for bad input");
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_BadCooldown_ThrowsAndKeepsTheLease()
    {
        var pool = CreatePool(Unique.Name(), Channels(1));
        await using var lease = await pool.AcquireAsync();
        await FluentActions.Awaiting(() => lease.ReleaseWithCooldownAsync(TimeSpan.Zero).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        (await pool.GetStatusAsync()).Single().Status.Should().Be(LeaseStatus.Held);
        (await lease.RenewAsync()).Should().BeTrue();
    }

    /// <summary>Counts the waits (acquires that found every channel busy and queued) of one pool, from the Leasing meter.</summary>
    private sealed class WaitCounter : IDisposable
    {
        private readonly MeterListener listener = new();
        private int count;

        public WaitCounter(string pool)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Leasing" && instrument.Name == "leasing.pool.waits")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "leasing.pool" && Equals(tag.Value, pool))
                    {
                        Interlocked.Add(ref count, (int)value);
                    }
                }
            });
            listener.Start();
        }

        public int Count => Volatile.Read(ref count);

        public void Dispose() => listener.Dispose();
    }
}
