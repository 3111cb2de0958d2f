using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// The cluster tests that fail nodes over or count the commands the nodes run: one collection, run
/// alone after the parallel tests of the assembly, so no other test sees a failover in progress or
/// adds commands to the counts. Each test starts and ends on a healthy cluster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterSerialCollection
{
    public const string Name = "Redis Cluster, alone";
}
