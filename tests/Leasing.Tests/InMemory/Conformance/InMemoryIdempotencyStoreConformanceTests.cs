using Leasing.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>The idempotency store conformance suite on the in-memory backend (FakeTimeProvider).</summary>
public sealed class InMemoryIdempotencyStoreConformanceTests : IdempotencyStoreConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new InMemoryIdempotencyBackend());
}
