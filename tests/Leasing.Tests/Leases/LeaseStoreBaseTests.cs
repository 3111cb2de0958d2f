using FluentAssertions;
using Xunit;

namespace Leasing.Tests.Leases;

// The LeaseStore base: checks run once, before the core methods, and the members with a default in
// ILeaseStore keep that default for a backend that implements only the abstract core methods.
public sealed class LeaseStoreBaseTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task VersionedAcquires_NotOverridden_CallTheUncheckedCores()
    {
        var store = new MinimalLeaseStore();

        (await store.TryAcquireLeastRecentlyUsedAsync("pool", Ttl, 3))!.Key.Should().Be("lru");
        (await store.TryAcquirePoolMemberAsync("pool", "m", Ttl, 3))!.Key.Should().Be("m");

        store.Calls.Should().Equal("lru", "member");
    }

    [Fact]
    public async Task HandOver_NotOverridden_ReleasesThenClaims()
    {
        var store = new MinimalLeaseStore();
        var lease = new Lease("m", "token", 1, DateTimeOffset.UnixEpoch) { Pool = "pool" };

        var result = await store.ReleaseAndAcquireLeastRecentlyUsedAsync(lease, Ttl, 0);

        result.Should().Be(new ReleaseAndAcquireResult(true, result.Acquired, false));
        result.Acquired!.Key.Should().Be("lru");
        store.Calls.Should().Equal("release", "lru");
    }

    [Fact]
    public async Task HandOver_LeaseNoLongerOurs_ClaimsNothing()
    {
        var store = new MinimalLeaseStore { Released = false };
        var lease = new Lease("m", "token", 1, DateTimeOffset.UnixEpoch) { Pool = "pool" };

        (await store.ReleaseAndAcquireLeastRecentlyUsedAsync(lease, Ttl, 0)).Should().Be(new ReleaseAndAcquireResult(false, null, false));
        store.Calls.Should().Equal("release");
    }

    [Fact]
    public async Task CancelledToken_ReturnsACancelledTaskWithoutCallingTheCore_AndBadArgumentsWinOverIt()
    {
        var store = new MinimalLeaseStore();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var call = store.TryAcquireAsync("key", Ttl, cancelled.Token);
        call.IsCanceled.Should().BeTrue("an already cancelled call completes at once, cancelled");
        FluentActions.Invoking(() => store.TryAcquireAsync("key", TimeSpan.Zero, cancelled.Token))
            .Should().Throw<ArgumentOutOfRangeException>("bad arguments throw from the call itself").WithParameterName("ttl");
        FluentActions.Invoking(() => store.TryAcquireLeastRecentlyUsedAsync("pool", Ttl, -1, cancelled.Token))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("membersVersion");

        store.Calls.Should().BeEmpty();
    }

    /// <summary>A backend with only the abstract core methods, recording the calls that reach it.</summary>
    private sealed class MinimalLeaseStore : LeaseStore
    {
        public List<string> Calls { get; } = [];

        public override string BackendName => "minimal";

        public bool Released { get; init; } = true;

        protected override ValueTask<Lease?> TryAcquireCoreAsync(string key, TimeSpan ttl, CancellationToken cancellationToken) => Answer<Lease?>("acquire", new Lease(key, "t", 1, DateTimeOffset.UnixEpoch));

        protected override ValueTask<Lease?> RenewCoreAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken) => Answer<Lease?>("renew", lease);

        protected override ValueTask<bool> ReleaseCoreAsync(Lease lease, CancellationToken cancellationToken) => Answer("release", Released);

        protected override ValueTask<bool> ReleaseWithCooldownCoreAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken) => Answer("cooldown", true);

        protected override ValueTask<IReadOnlyList<LeaseState>> InspectCoreAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) => Answer<IReadOnlyList<LeaseState>>("inspect", []);

        protected override ValueTask SetPoolMembersCoreAsync(string pool, IReadOnlyCollection<string> members, long version, CancellationToken cancellationToken)
        {
            Calls.Add("members");
            return ValueTask.CompletedTask;
        }

        protected override ValueTask<IReadOnlyList<string>> GetPoolMembersCoreAsync(string pool, CancellationToken cancellationToken) => Answer<IReadOnlyList<string>>("get members", []);

        protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken) =>
            Answer<Lease?>("lru", new Lease("lru", "t", 1, DateTimeOffset.UnixEpoch) { Pool = pool });

        protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken) =>
            Answer<Lease?>("member", new Lease(member, "t", 1, DateTimeOffset.UnixEpoch) { Pool = pool });

        protected override ValueTask<IReadOnlyList<LeaseState>> InspectPoolCoreAsync(string pool, CancellationToken cancellationToken) => Answer<IReadOnlyList<LeaseState>>("inspect pool", []);

        protected override ValueTask<bool> ForceReleaseCoreAsync(string key, string? pool, CancellationToken cancellationToken) => Answer("force", true);

        protected override ValueTask<bool> WriteStateCoreAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken) => Answer("write", true);

        protected override ValueTask<LeaseStateValue?> ReadStateCoreAsync(string key, string? pool, CancellationToken cancellationToken) => Answer<LeaseStateValue?>("read", null);

        private ValueTask<T> Answer<T>(string call, T value)
        {
            Calls.Add(call);
            return new ValueTask<T>(value);
        }
    }
}
