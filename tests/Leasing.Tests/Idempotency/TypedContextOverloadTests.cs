using System.Text.Json.Serialization;
using FluentAssertions;
using Leasing.InMemory;
using Xunit;

namespace Leasing.Tests.Idempotency;

// The ExecuteWithContextAsync overloads taking JsonTypeInfo (trimmed and AOT apps): same semantics as the reflection ones.
public sealed partial class TypedContextOverloadTests
{
    [Fact]
    public async Task ExecuteWithContextAsync_WithJsonTypeInfo_RunsOnceGivesTheFencingTokenAndReplaysTheStoredValue()
    {
        await using var executor = new IdempotentExecutor(new InMemoryIdempotencyStore());
        var runs = 0;
        long fencing = 0;

        var first = await executor.ExecuteWithContextAsync("order-1", TypedJson.Default.Receipt, context =>
        {
            runs++;
            fencing = context.FencingToken;
            return Task.FromResult(new Receipt("r-1", 42));
        }, fingerprint: "v1");
        var again = await executor.ExecuteWithContextAsync("order-1", TypedJson.Default.Receipt, _ => Task.FromResult(new Receipt("r-2", 0)), fingerprint: "v1");

        runs.Should().Be(1);
        fencing.Should().BePositive();
        again.Replayed.Should().BeTrue();
        again.Value.Should().Be(new Receipt("r-1", 42));
    }

    [Fact]
    public async Task ExecuteWithContextAsync_TypedInput_FingerprintsTheInputAndRefusesAnotherUnderTheSameKey()
    {
        await using var executor = new IdempotentExecutor(new InMemoryIdempotencyStore());

        var result = await executor.ExecuteWithContextAsync("order-2", new Order(100), TypedJson.Default.Order, TypedJson.Default.Receipt,
            (order, context) => Task.FromResult(new Receipt("r", order.Amount)));
        result.Value.Amount.Should().Be(100);

        await FluentActions.Awaiting(() => executor.ExecuteWithContextAsync("order-2", new Order(200), TypedJson.Default.Order, TypedJson.Default.Receipt,
            (order, context) => Task.FromResult(new Receipt("r", order.Amount)))).Should().ThrowAsync<IdempotencyKeyReuseException>();
    }

    public sealed record Receipt(string Id, decimal Amount);

    public sealed record Order(decimal Amount);

    [JsonSerializable(typeof(Receipt))]
    [JsonSerializable(typeof(Order))]
    private sealed partial class TypedJson : JsonSerializerContext;
}
