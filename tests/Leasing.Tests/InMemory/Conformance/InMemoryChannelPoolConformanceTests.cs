using Leasing.Testing;

namespace Leasing.Tests.InMemory;

/// <summary>The ChannelPool conformance suite on the in-memory backend (FakeTimeProvider).</summary>
public sealed class InMemoryChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new InMemoryLeaseBackend());
}
