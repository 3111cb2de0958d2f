using FluentAssertions;
using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>A single key's hash is kept a day after its lease ends, and for good once it holds fenced state (on every path that writes it).</summary>
public sealed class StateRetentionTests
{
    [Fact]
    public async Task SingleKey_WithFencedState_NeverExpires_WithoutIt_ExpiresADayAfterItsLease()
    {
        var redis = await RedisLeaseBackend.SharedConnectionAsync();
        var store = new RedisLeaseStore(redis, RedisLeaseBackend.Options);
        var db = redis.GetDatabase();
        var plain = Unique.Name();
        var stateful = Unique.Name();

        var a = await store.TryAcquireAsync(plain, TimeSpan.FromMinutes(1));
        var b = await store.TryAcquireAsync(stateful, TimeSpan.FromMinutes(1));
        (await store.WriteStateAsync(b!, new byte[] { 1 })).Should().BeTrue();
        var renewed = await store.RenewAsync(b!, TimeSpan.FromMinutes(2));
        (await db.KeyTimeToLiveAsync(store.SingleKeyNameOf(stateful))).Should().BeNull("a renew keeps a hash with state persistent");
        (await store.ReleaseWithCooldownAsync(renewed!, TimeSpan.FromMinutes(1))).Should().BeTrue();
        (await store.ForceReleaseAsync(stateful)).Should().BeTrue();
        var again = await store.TryAcquireAsync(stateful, TimeSpan.FromMinutes(1));
        (await store.ReleaseAsync(again!)).Should().BeTrue();
        (await store.ReleaseAsync(a!)).Should().BeTrue();

        (await db.KeyTimeToLiveAsync(store.SingleKeyNameOf(stateful))).Should().BeNull("a hash with fenced state never expires");
        (await db.KeyTimeToLiveAsync(store.SingleKeyNameOf(plain))).Should().BeCloseTo(TimeSpan.FromDays(1), TimeSpan.FromMinutes(1));
    }
}
