using System.Reflection;
using Leasing.Redis.Internal;
using Leasing.Testing;
using StackExchange.Redis;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// Connections to the run's Redis Cluster (<see cref="RedisClusterTestServer"/>): one shared by the
/// conformance suites, as app instances on one host would share a multiplexer, and private ones
/// for tests that count commands or fail nodes over.
/// </summary>
public static class ClusterConnection
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IConnectionMultiplexer? shared;

    /// <summary>The run's shared connection; every script is loaded on every primary before it is returned.</summary>
    public static async Task<IConnectionMultiplexer> SharedAsync()
    {
        if (shared is { } known)
        {
            return known;
        }

        await Gate.WaitAsync();
        try
        {
            if (shared is null)
            {
                var redis = await ConnectAsync();
                await LoadScriptsAsync(redis);
                await RedisLeaseBackend.WarmUpAsync(redis);
                shared = redis;
            }

            return shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// A new connection to the cluster with short timeouts and admin commands allowed; with
    /// <paramref name="frequentTopologyChecks"/> it checks the topology every second (so a promoted
    /// replica is found soon after a failover), otherwise at the driver's default (every 60 s).
    /// </summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(bool frequentTopologyChecks = true)
    {
        var options = ConfigurationOptions.Parse(RedisClusterTestServer.GetSeeds());
        options.AllowAdmin = true;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000;
        if (frequentTopologyChecks)
        {
            options.ConfigCheckSeconds = 1;
        }

        options.ReconnectRetryPolicy = new LinearRetry(100);
        var redis = await ConnectionMultiplexer.ConnectAsync(options);
        if (Primaries(redis).Count < 3)
        {
            await redis.DisposeAsync();
            throw new InvalidOperationException(
                $"The Redis Cluster at {options} is not a cluster of 3 primaries (is it started? eval \"$(eng/services.sh start)\").");
        }

        return redis;
    }

    /// <summary>The connected primaries of the cluster.</summary>
    public static IReadOnlyList<IServer> Primaries(IConnectionMultiplexer redis) =>
        [.. redis.GetServers().Where(s => s.IsConnected && !s.IsReplica && s.ServerType == ServerType.Cluster)];

    /// <summary>Loads every script of the stores on every primary, so no test pays a NOSCRIPT on a primary it reaches first.</summary>
    public static async Task LoadScriptsAsync(IConnectionMultiplexer redis)
    {
        var scripts = new[] { typeof(LeaseScripts), typeof(IdempotencyScripts) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.FieldType == typeof(RedisScript))
            .Select(f => (RedisScript)f.GetValue(null)!)
            .ToArray();
        foreach (var server in Primaries(redis))
        {
            foreach (var script in scripts)
            {
                await server.ScriptLoadAsync(script.Text);
            }
        }
    }
}
