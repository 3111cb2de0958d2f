using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// An already cancelled token with valid arguments: every call ends cancelled (OperationCanceledException)
// before any I/O, on every backend, and nothing changes.
public abstract partial class IdempotencyStoreConformanceTests
{
    [Fact]
    public async Task EveryCall_AlreadyCancelledToken_EndsCancelledAndChangesNothing()
    {
        var key = Unique.Name();
        var other = Unique.Name();
        var claim = await ClaimAsync(key, "fp", LongTtl);
        var owner = claim.OwnerToken!;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;

        Func<Task>[] calls =
        [
            () => Store.TryClaimAsync(other, "fp", LongTtl, token).AsTask(),
            () => Store.HeartbeatAsync(key, owner, Ttl, token).AsTask(),
            () => Store.CompleteAsync(key, owner, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), LongTtl, token).AsTask(),
            () => Store.ReleaseAsync(key, owner, token).AsTask(),
            () => Store.GetAsync(key, token).AsTask(),
            () => Store.EvictAsync(key, token).AsTask(),
        ];
        foreach (var call in calls)
        {
            await call.Should().ThrowAsync<OperationCanceledException>("an already cancelled call never reaches the backend");
        }

        (await Store.GetAsync(other)).Should().BeNull("the claim did not run");
        ShouldBeSameRecord(await GetAsync(key), claim.Existing!);
    }
}
