using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// An already cancelled token with valid arguments: every call ends cancelled (OperationCanceledException)
// before any I/O, on every backend, and nothing changes.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task EveryCall_AlreadyCancelledToken_EndsCancelledAndChangesNothing()
    {
        var key = Unique.Name();
        var (pool, members) = await CreatePoolAsync(2);
        var held = await AcquireMemberAsync(pool, members[0], LongTtl);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;

        Func<Task>[] calls =
        [
            () => Store.TryAcquireAsync(key, LongTtl, token).AsTask(),
            () => Store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, token).AsTask(),
            () => Store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, 0, token).AsTask(),
            () => Store.TryAcquirePoolMemberAsync(pool, members[1], LongTtl, token).AsTask(),
            () => Store.TryAcquirePoolMemberAsync(pool, members[1], LongTtl, 0, token).AsTask(),
            () => Store.RenewAsync(held, Ttl, token).AsTask(),
            () => Store.ReleaseAsync(held, token).AsTask(),
            () => Store.ReleaseWithCooldownAsync(held, LongTtl, token).AsTask(),
            () => Store.ReleaseAndAcquireLeastRecentlyUsedAsync(held, LongTtl, 0, token).AsTask(),
            () => Store.WriteStateAsync(held, "state"u8.ToArray(), token).AsTask(),
            () => Store.ForceReleaseAsync(members[0], pool, token).AsTask(),
            () => Store.SetPoolMembersAsync(pool, ["other"], 1, token).AsTask(),
            () => Store.InspectAsync([key], token).AsTask(),
            () => Store.InspectPoolAsync(pool, token).AsTask(),
            () => Store.GetPoolMembersAsync(pool, token).AsTask(),
            () => Store.ReadStateAsync(members[0], pool, token).AsTask(),
        ];
        foreach (var call in calls)
        {
            await call.Should().ThrowAsync<OperationCanceledException>("an already cancelled call never reaches the backend");
        }

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Free);
        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(members);
        var member = await InspectMemberAsync(pool, members[0]);
        member.Status.Should().Be(LeaseStatus.Held);
        member.ExpiresAt.Should().BeCloseTo(held.ExpiresAt, TimeTolerance, "the renew did not run");
        (await InspectMemberAsync(pool, members[1])).Status.Should().Be(LeaseStatus.Free);
        (await Store.ReadStateAsync(members[0], pool)).Should().BeNull("the state write did not run");
        (await Store.ReleaseAsync(held)).Should().BeTrue("the lease is still ours");
    }
}
