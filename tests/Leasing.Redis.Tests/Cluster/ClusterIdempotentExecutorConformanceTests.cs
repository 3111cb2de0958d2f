using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>The idempotent executor conformance suite, unchanged, on the run's Redis Cluster (completion wake-ups by pub/sub across nodes included).</summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterIdempotentExecutorConformanceTests : IdempotentExecutorConformanceTests
{
    protected override async ValueTask<IdempotencyBackend> CreateBackendAsync() => await RedisIdempotencyBackend.CreateOnClusterAsync();
}
