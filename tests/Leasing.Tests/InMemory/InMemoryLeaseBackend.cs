using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>
/// The in-memory backend on a <see cref="FakeTimeProvider"/>: time passes only when a test says so.
/// There is one store per backend; <see cref="CreateStore"/> returns it each time, since in-memory
/// "another replica" can only mean another caller of the same store.
/// </summary>
public sealed class InMemoryLeaseBackend : LeaseBackend
{
    private readonly FakeTimeProvider time = new();

    public InMemoryLeaseBackend() => Store = new InMemoryLeaseStore(time);

    public InMemoryLeaseStore Store { get; }

    public FakeTimeProvider Clock => time;

    public override string Name => "memory";

    public override TimeProvider TimeProvider => time;

    public override bool IsTimeVirtual => true;

    public override TimeSpan Ttl => TimeSpan.FromSeconds(30);

    public override ILeaseStore CreateStore() => Store;

    public override ValueTask PassAsync(TimeSpan duration)
    {
        time.Advance(duration);
        return ValueTask.CompletedTask;
    }
}
