using Leasing.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>The idempotent executor conformance suite on the in-memory backend (FakeTimeProvider).</summary>
public sealed class InMemoryIdempotentExecutorConformanceTests : IdempotentExecutorConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new InMemoryIdempotencyBackend());
}
