using Leasing.Testing;

namespace Leasing.Tests.InMemory;

public sealed class InMemoryLeaseStoreConformanceTests : LeaseStoreConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new InMemoryLeaseBackend());
}
