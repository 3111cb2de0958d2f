using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>The idempotency store conformance suite, unchanged, on the run's Redis Cluster.</summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterIdempotencyStoreConformanceTests : IdempotencyStoreConformanceTests
{
    protected override async ValueTask<IdempotencyBackend> CreateBackendAsync() => await RedisIdempotencyBackend.CreateOnClusterAsync();
}
