using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>The lease conformance suite, unchanged, on a real Redis server.</summary>
public sealed class RedisLeaseStoreConformanceTests : LeaseStoreConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateAsync();
}
