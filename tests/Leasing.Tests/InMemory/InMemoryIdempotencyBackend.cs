using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>
/// The in-memory idempotency backend on a <see cref="FakeTimeProvider"/>: time passes only when a
/// test says so. There is one store per backend; <see cref="CreateStore"/> returns it each time.
/// </summary>
public sealed class InMemoryIdempotencyBackend : IdempotencyBackend
{
    private readonly FakeTimeProvider time = new();

    public InMemoryIdempotencyBackend() => Store = new InMemoryIdempotencyStore(time);

    public InMemoryIdempotencyStore Store { get; }

    public FakeTimeProvider Clock => time;

    public override string Name => "memory";

    public override TimeProvider TimeProvider => time;

    public override bool IsTimeVirtual => true;

    public override TimeSpan Ttl => TimeSpan.FromSeconds(30);

    public override IIdempotencyStore CreateStore() => Store;

    public override ValueTask PassAsync(TimeSpan duration)
    {
        time.Advance(duration);
        return ValueTask.CompletedTask;
    }
}
