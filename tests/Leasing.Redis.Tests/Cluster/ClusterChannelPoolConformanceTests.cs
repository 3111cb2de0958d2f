using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>The ChannelPool conformance suite, unchanged, on the run's Redis Cluster (2 s leases, as on one server).</summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateOnClusterAsync(TimeSpan.FromSeconds(2));
}
