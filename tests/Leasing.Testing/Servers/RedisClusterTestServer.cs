namespace Leasing.Testing;

/// <summary>
/// The Redis Cluster the cluster tests of a run share: the seed endpoints in
/// <c>LEASING_REDIS_CLUSTER</c> (comma-separated, as <c>eng/services.sh env</c> prints them). When
/// the variable is unset the cluster tests fail with a message that says how to start one; they
/// never pass without a cluster. Opt out locally with <c>--filter "Category!=Cluster&amp;Category!=ClusterFailover"</c>.
/// </summary>
public static class RedisClusterTestServer
{
    /// <summary>The environment variable that names the cluster's seeds (e.g. <c>127.0.0.1:7000,127.0.0.1:7001</c>).</summary>
    public const string EnvironmentVariable = "LEASING_REDIS_CLUSTER";

    /// <summary>The trait value of the tests that run on the cluster (<c>[Trait("Category", ...)]</c>).</summary>
    public const string Category = "Cluster";

    /// <summary>The trait value of the tests that fail nodes of the cluster over.</summary>
    public const string FailoverCategory = "ClusterFailover";

    /// <summary>The seed endpoints of the cluster, comma-separated (StackExchange.Redis syntax).</summary>
    /// <exception cref="InvalidOperationException">The variable is not set.</exception>
    public static string GetSeeds()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                $"No Redis Cluster for the cluster tests: {EnvironmentVariable} is not set. " +
                "Start the project's servers (a local 6-node cluster among them) and export their addresses with: eval \"$(eng/services.sh start)\". " +
                "To leave the cluster tests out locally: dotnet test --filter \"Category!=Cluster&Category!=ClusterFailover\"");
        }

        return configured;
    }
}
