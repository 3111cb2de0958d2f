using Leasing.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>The DistributedLock conformance suite on the in-memory backend (FakeTimeProvider).</summary>
public sealed class InMemoryDistributedLockConformanceTests : DistributedLockConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new InMemoryLeaseBackend());
}
