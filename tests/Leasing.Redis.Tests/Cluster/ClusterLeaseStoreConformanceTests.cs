using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>The lease conformance suite, unchanged, on the run's Redis Cluster (3 primaries; the unique key and pool names spread over all of them).</summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterLeaseStoreConformanceTests : LeaseStoreConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateOnClusterAsync();
}
