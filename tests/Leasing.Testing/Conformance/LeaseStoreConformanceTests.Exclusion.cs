using System.Collections.Concurrent;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Mutual exclusion and owner tokens.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task TryAcquireAsync_FreeKey_ReturnsLeaseWithBackendTimes()
    {
        var key = Unique.Name();

        var lease = await AcquireAsync(key, Ttl);

        lease.Key.Should().Be(key);
        lease.Pool.Should().BeNull();
        lease.FencingToken.Should().BePositive();
        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(lease.FencingToken);
        state.ExpiresAt.Should().BeCloseTo(lease.ExpiresAt, TimeTolerance);
        state.LastAcquiredAt.Should().NotBeNull();
        (state.ExpiresAt!.Value - state.LastAcquiredAt!.Value).Should().BeCloseTo(Ttl, TimeTolerance, "ExpiresAt is the backend's acquire time + ttl");
    }

    [Fact]
    public async Task TryAcquireAsync_KeyHeldByAnotherReplica_ReturnsNull()
    {
        var key = Unique.Name();
        var other = Backend.CreateStore();
        await AcquireAsync(key, Ttl);

        (await other.TryAcquireAsync(key, Ttl)).Should().BeNull();
        (await Store.TryAcquireAsync(key, Ttl)).Should().BeNull("a holder cannot acquire its own key twice either");
    }

    [Fact]
    public async Task TryAcquireAsync_ConcurrentCallersOnSameKeys_ExactlyOneWinnerPerKey()
    {
        var keys = Enumerable.Range(0, 8).Select(i => Unique.Name($"k{i}-")).ToArray();
        var stores = Enumerable.Range(0, 4).Select(_ => Backend.CreateStore()).ToArray();

        var results = await RaceAsync(keys.Length * 24, async i =>
        {
            var key = keys[i % keys.Length];
            return (Key: key, Lease: await stores[i % stores.Length].TryAcquireAsync(key, LongTtl));
        });

        foreach (var key in keys)
        {
            results.Count(r => r.Key == key && r.Lease is not null).Should().Be(1, $"exactly one of 24 racers wins {key}");
        }
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_ConcurrentCallers_HandOutEachMemberOnce()
    {
        var (pool, members) = await CreatePoolAsync(8);
        var stores = Enumerable.Range(0, 4).Select(_ => Backend.CreateStore()).ToArray();

        var leases = await RaceAsync(64, i => stores[i % stores.Length].TryAcquireLeastRecentlyUsedAsync(pool, LongTtl).AsTask());

        var winners = leases.Where(l => l is not null).Select(l => l!.Key).ToList();
        winners.Should().HaveCount(members.Length).And.OnlyHaveUniqueItems().And.BeEquivalentTo(members);
    }

    [Fact]
    public async Task TryAcquirePoolMemberAsync_ConcurrentCallersOnOneMember_ExactlyOneWins()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var stores = Enumerable.Range(0, 4).Select(_ => Backend.CreateStore()).ToArray();

        var leases = await RaceAsync(32, i => stores[i % stores.Length].TryAcquirePoolMemberAsync(pool, members[0], LongTtl).AsTask());

        leases.Count(l => l is not null).Should().Be(1);
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_ConcurrentChurn_NeverHandsOutAHeldMember()
    {
        const int Workers = 8;
        const int PairsPerWorker = 40;
        var (pool, _) = await CreatePoolAsync(3);
        var holders = new ConcurrentDictionary<string, int>();
        var lastFencing = new ConcurrentDictionary<string, long>();

        await RaceAsync(Workers, async worker =>
        {
            var store = Backend.CreateStore();
            for (var pair = 0; pair < PairsPerWorker;)
            {
                var lease = await store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl);
                if (lease is null)
                {
                    await Task.Yield();
                    continue;
                }

                holders.TryAdd(lease.Key, worker).Should().BeTrue($"{lease.Key} was handed out while worker {holders.GetValueOrDefault(lease.Key)} held it");

                // Holders of one member never overlap, so its tokens are seen in issue order.
                lease.FencingToken.Should().BeGreaterThan(lastFencing.GetValueOrDefault(lease.Key));
                lastFencing[lease.Key] = lease.FencingToken;
                holders.TryRemove(lease.Key, out _);
                (await store.ReleaseAsync(lease)).Should().BeTrue();
                pair++;
            }

            return worker;
        });

        lastFencing.Keys.Should().HaveCount(3, "every member took part");
    }

    [Fact]
    public async Task Lease_Token_Is128BitLowercaseHexAndNeverRepeats()
    {
        var (pool, _) = await CreatePoolAsync(10);
        var key = Unique.Name();
        var tokens = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            tokens.Add((await AcquireAsync(Unique.Name($"k{i}-"), Ttl)).Token);
            tokens.Add((await AcquireLruAsync(pool, Ttl)).Token);
            var again = await AcquireAsync(key, Ttl);
            tokens.Add(again.Token);
            (await Store.ReleaseAsync(again)).Should().BeTrue();
        }

        tokens.Should().AllSatisfy(token => token.Should().MatchRegex("^[0-9a-f]{32}$"));
        tokens.Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Lease_ToString_NeverContainsTheToken()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var single = await AcquireAsync(Unique.Name(), Ttl);
        var member = await AcquireMemberAsync(pool, members[0], Ttl);

        foreach (var lease in new[] { single, member })
        {
            var text = lease.ToString();
            text.Should().NotContain(lease.Token);
            text.Should().Contain(lease.Key).And.Contain(lease.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task SingleKeysAndPoolMembers_SameName_DoNotCollide()
    {
        var name = Unique.Name();
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, [name]);

        var single = await AcquireAsync(name, LongTtl);
        var member = await AcquireMemberAsync(pool, name, LongTtl);
        await AcquireAsync(pool, LongTtl);

        (await Store.ReleaseAsync(single with { Pool = pool })).Should().BeFalse("a single key's token does not open the member");
        (await Store.ReleaseAsync(member with { Pool = null })).Should().BeFalse("a member's token does not open the single key");
        (await Store.ForceReleaseAsync(name)).Should().BeTrue();
        (await InspectOneAsync(name)).Status.Should().Be(LeaseStatus.Free);
        (await InspectMemberAsync(pool, name)).Status.Should().Be(LeaseStatus.Held, "freeing the single key leaves the member alone");
        (await Store.RenewAsync(member, LongTtl)).Should().NotBeNull();
        (await Store.ReleaseAsync(member)).Should().BeTrue();
        (await AcquireAsync(name, LongTtl)).FencingToken.Should().BeGreaterThan(single.FencingToken);
    }

    [Fact]
    public async Task ReleaseAsync_LeaseOfAnotherPoolWithSameMember_ReturnsFalse()
    {
        var (poolA, members) = await CreatePoolAsync(1);
        var (poolB, _) = await CreatePoolAsync(1);
        var leaseA = await AcquireMemberAsync(poolA, members[0], LongTtl);
        var leaseB = await AcquireMemberAsync(poolB, members[0], LongTtl);

        (await Store.ReleaseAsync(leaseA with { Pool = poolB })).Should().BeFalse();
        (await InspectMemberAsync(poolB, members[0])).FencingToken.Should().Be(leaseB.FencingToken);
        (await InspectMemberAsync(poolB, members[0])).Status.Should().Be(LeaseStatus.Held);
    }
}
