using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Bad input: ArgumentException naming the parameter, before any I/O (an already cancelled token
// proves it: validation wins over cancellation), and nothing written.
public abstract partial class IdempotencyStoreConformanceTests
{
    public static TheoryData<string?> BadKeys => new() { null, string.Empty, "   ", new string('k', LeaseArguments.MaxKeyBytes + 1), new string('é', (LeaseArguments.MaxKeyBytes / 2) + 1) };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task AnyCall_BadKey_ThrowsArgumentExceptionBeforeIo(string? key)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = OwnerTokens.Create();

        await ShouldRejectAsync(() => Store.TryClaimAsync(key!, "fp", Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.HeartbeatAsync(key!, token, Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.CompleteAsync(key!, token, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.ReleaseAsync(key!, token, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.GetAsync(key!, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.EvictAsync(key!, cancelled.Token).AsTask(), "key");
    }

    [Fact]
    public async Task TryClaimAsync_BadFingerprintOrLease_ThrowsAndWritesNothing()
    {
        var key = Unique.Name();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await ShouldRejectAsync(() => Store.TryClaimAsync(key, null!, Ttl, cancelled.Token).AsTask(), "fingerprint");
        await ShouldRejectAsync(() => Store.TryClaimAsync(key, " ", Ttl, cancelled.Token).AsTask(), "fingerprint");
        await ShouldRejectAsync(() => Store.TryClaimAsync(key, new string('f', LeaseArguments.MaxFingerprintBytes + 1), Ttl, cancelled.Token).AsTask(), "fingerprint");
        await ShouldRejectAsync(() => Store.TryClaimAsync(key, "fp", TimeSpan.Zero, cancelled.Token).AsTask(), "lease");
        await ShouldRejectAsync(() => Store.TryClaimAsync(key, "fp", TimeSpan.FromSeconds(-1), cancelled.Token).AsTask(), "lease");
        await ShouldRejectAsync(() => Store.TryClaimAsync(key, "fp", LeaseArguments.MaxTtl + TimeSpan.FromSeconds(1), cancelled.Token).AsTask(), "lease");

        (await Store.GetAsync(key)).Should().BeNull("rejected calls write nothing");
    }

    [Fact]
    public async Task OwnerCalls_BadTokenLeaseOutcomeOrRetention_ThrowAndChangeNothing()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", LongTtl);
        var owner = claim.OwnerToken!;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await ShouldRejectAsync(() => Store.HeartbeatAsync(key, null!, Ttl, cancelled.Token).AsTask(), "ownerToken");
        await ShouldRejectAsync(() => Store.HeartbeatAsync(key, string.Empty, Ttl, cancelled.Token).AsTask(), "ownerToken");
        await ShouldRejectAsync(() => Store.HeartbeatAsync(key, owner, TimeSpan.Zero, cancelled.Token).AsTask(), "lease");
        await ShouldRejectAsync(() => Store.CompleteAsync(key, string.Empty, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), Ttl, cancelled.Token).AsTask(), "ownerToken");
        await ShouldRejectAsync(() => Store.CompleteAsync(key, owner, (IdempotencyOutcome)42, "x"u8.ToArray(), Ttl, cancelled.Token).AsTask(), "outcome");
        await ShouldRejectAsync(() => Store.CompleteAsync(key, owner, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), TimeSpan.Zero, cancelled.Token).AsTask(), "retention");
        await ShouldRejectAsync(() => Store.CompleteAsync(key, owner, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), LeaseArguments.MaxRetention + TimeSpan.FromSeconds(1), cancelled.Token).AsTask(), "retention");
        await ShouldRejectAsync(() => Store.ReleaseAsync(key, string.Empty, cancelled.Token).AsTask(), "ownerToken");

        ShouldBeSameRecord(await GetAsync(key), claim.Existing!);
    }

    private static async Task ShouldRejectAsync(Func<Task> call, string parameter)
    {
        var thrown = await call.Should().ThrowAsync<ArgumentException>($"bad {parameter} must be rejected before any I/O, even with a cancelled token");
        thrown.Which.ParamName.Should().Be(parameter);
    }
}

// Key and fingerprint text no backend can store as given (NUL, lone surrogates), by name.
public abstract partial class IdempotencyStoreConformanceTests
{
    [Theory]
    [InlineData("nul")]
    [InlineData("lone-high")]
    [InlineData("lone-low")]
    public async Task AnyCall_UnstorableKeyText_ThrowsArgumentExceptionBeforeIo(string name)
    {
        var bad = LeaseStoreConformanceTests.UnstorableKey(name);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = OwnerTokens.Create();

        await ShouldRejectAsync(() => Store.TryClaimAsync(bad, "fp", Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.TryClaimAsync(Unique.Name(), bad, Ttl, cancelled.Token).AsTask(), "fingerprint");
        await ShouldRejectAsync(() => Store.HeartbeatAsync(bad, token, Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.CompleteAsync(bad, token, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.GetAsync(bad, cancelled.Token).AsTask(), "key");
        await ShouldRejectAsync(() => Store.EvictAsync(bad, cancelled.Token).AsTask(), "key");
    }
}
