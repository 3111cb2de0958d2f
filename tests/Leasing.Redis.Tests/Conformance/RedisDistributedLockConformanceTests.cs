using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>The DistributedLock conformance suite, unchanged, on a real Redis server (2 s leases, as the pool suite).</summary>
public sealed class RedisDistributedLockConformanceTests : DistributedLockConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateAsync(TimeSpan.FromSeconds(2));
}
