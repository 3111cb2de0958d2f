using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Idempotency;

public sealed class IdempotentExecutorTests
{
    [Theory]
    [InlineData("WaitForInProgress", -1)]
    [InlineData("Retention", 0)]
    [InlineData("LeaseDuration", 0)]
    public void Constructor_OptionOutOfRange_ThrowsNamingTheOption(string option, int seconds)
    {
        var options = new IdempotencyOptions();
        typeof(IdempotencyOptions).GetProperty(option)!.SetValue(options, TimeSpan.FromSeconds(seconds));

        FluentActions.Invoking(() => new IdempotentExecutor(new InMemoryIdempotencyStore(), options))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage($"*IdempotencyOptions.{option}*");
    }

    [Fact]
    public async Task ExecuteAsync_BadKey_ThrowsBeforeTouchingTheStore()
    {
        var store = new Leasing.Testing.CountingIdempotencyStore(new InMemoryIdempotencyStore());
        await using var executor = new IdempotentExecutor(store);

        await FluentActions.Awaiting(() => executor.ExecuteAsync(" ", ct => Task.FromResult(1))).Should().ThrowAsync<ArgumentException>().WithParameterName("key");
        await FluentActions.Awaiting(() => executor.ExecuteAsync("k", 1, (i, ct) => Task.FromResult(i)).WaitAsync(TimeSpan.FromSeconds(5))).Should().NotThrowAsync();
        await FluentActions.Awaiting(() => executor.ExecuteAsync("k2", ct => Task.FromResult(1), fingerprint: "  ")).Should().ThrowAsync<ArgumentException>().WithParameterName("fingerprint");

        store.Claims.Should().Be(1, "only the valid call reached the store");
    }

    [Fact]
    public async Task ExecuteAsync_InputFingerprint_IsTheSha256OfItsJson()
    {
        var store = new InMemoryIdempotencyStore();
        await using var executor = new IdempotentExecutor(store);

        await executor.ExecuteAsync("k", new { Account = "a", Amount = 5 }, (input, ct) => Task.FromResult(1));

        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("{\"Account\":\"a\",\"Amount\":5}"u8));
        (await store.GetAsync("k"))!.Fingerprint.Should().Be(expected);
    }

    [Fact]
    public async Task DisposeAsync_CancelsTheRunningActionsTokenAndReleasesItsClaim()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(time);
        var executor = new IdempotentExecutor(store, timeProvider: time);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = executor.ExecuteAsync("k", async ct =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 1;
        });
        await started.Task;

        await executor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        (await store.GetAsync("k"))!.Status.Should().Be(IdempotencyStatus.Released, "shutdown is a retryable failure");
        await FluentActions.Awaiting(() => executor.ExecuteAsync("k", ct => Task.FromResult(1))).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLostWhileRunning_CancelsTheActionAndThrowsClaimLost()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(time);
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = executor.ExecuteWithContextAsync("k", async context =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return 1;
        });
        await started.Task;

        // An operator evicts the key: the next heartbeat finds the claim gone.
        (await store.EvictAsync("k")).Should().BeTrue();
        time.Advance(TimeSpan.FromSeconds(11));

        await FluentActions.Awaiting(() => call.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<IdempotencyClaimLostException>()
            .Where(e => e.InnerException is OperationCanceledException);
    }

    [Fact]
    public async Task ExecuteAsync_ClaimLostButAnOutcomeIsStored_ReplaysIt()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(time);
        await using var executor = new IdempotentExecutor(store, new IdempotencyOptions { LeaseDuration = TimeSpan.FromSeconds(30) }, time);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = executor.ExecuteAsync("k", async ct =>
        {
            started.SetResult();
            await release.Task;
            return "mine";
        });
        await started.Task;

        // The owner pauses past its lease; another instance claims the key and stores its outcome.
        time.Advance(TimeSpan.FromSeconds(31));
        var other = await store.TryClaimAsync("k", "-", TimeSpan.FromSeconds(30));
        other.Outcome.Should().Be(ClaimOutcome.Claimed);
        (await store.CompleteAsync("k", other.OwnerToken!, IdempotencyOutcome.Succeeded, "\"theirs\""u8.ToArray(), TimeSpan.FromHours(1))).Should().BeTrue();
        release.SetResult();

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        result.Value.Should().Be("theirs", "the key's one recorded outcome wins");
        result.Replayed.Should().BeTrue();
    }

    [Fact]
    public async Task ExecuteAsync_WithJsonTypeInfo_StoresAndReplaysThroughSourceGeneratedMetadata()
    {
        var store = new InMemoryIdempotencyStore();
        await using var executor = new IdempotentExecutor(store);

        var first = await executor.ExecuteAsync("inv", InvoiceJsonContext.Default.Invoice, ct => Task.FromResult(new Invoice("A-1", 9.5m)), fingerprint: "order-7");
        var replay = await executor.ExecuteAsync("inv", InvoiceJsonContext.Default.Invoice, ct => Task.FromResult(new Invoice("B-2", 0m)), fingerprint: "order-7");
        var typed = await executor.ExecuteAsync("inv2", "input", InvoiceJsonContext.Default.String, InvoiceJsonContext.Default.Invoice, (i, ct) => Task.FromResult(new Invoice(i, 1m)));

        first.Replayed.Should().BeFalse();
        replay.Replayed.Should().BeTrue();
        replay.Value.Should().Be(new Invoice("A-1", 9.5m));
        typed.Value.Number.Should().Be("input");
        System.Text.Encoding.UTF8.GetString((await store.GetAsync("inv"))!.Result!.Value.Span).Should().Be("{\"Number\":\"A-1\",\"Total\":9.5}");
    }

    [Fact]
    public async Task AddIdempotentExecutor_RegistersOneExecutorAndValidatesOptionsAtStart()
    {
        var services = new ServiceCollection();
        services.AddInMemoryLeasing();
        services.AddIdempotentExecutor(o => o.WaitForInProgress = TimeSpan.FromSeconds(1));
        await using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IdempotentExecutor>().Should().BeSameAs(provider.GetRequiredService<IdempotentExecutor>());
            (await provider.GetRequiredService<IdempotentExecutor>().ExecuteAsync("k", ct => Task.FromResult(3))).Value.Should().Be(3);
        }

        var bad = new ServiceCollection();
        bad.AddInMemoryLeasing();
        bad.AddIdempotentExecutor(o => o.Retention = TimeSpan.Zero);
        await using var badProvider = bad.BuildServiceProvider();
        FluentActions.Invoking(() => badProvider.GetRequiredService<IOptions<IdempotencyOptions>>().Value)
            .Should().Throw<OptionsValidationException>().WithMessage("*IdempotencyOptions.Retention*");
    }
}

public sealed record Invoice(string Number, decimal Total);

[System.Text.Json.Serialization.JsonSerializable(typeof(Invoice))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
public sealed partial class InvoiceJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
