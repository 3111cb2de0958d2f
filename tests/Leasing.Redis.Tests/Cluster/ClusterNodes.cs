using System.Diagnostics;
using System.Globalization;
using System.Net;
using Leasing.Testing;
using StackExchange.Redis;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// Drives the nodes of the run's cluster for the failover tests: which primary serves a key and
/// which replica follows it, a manual failover, a kill -9 and the restart of the killed node (it
/// rejoins as a replica of the promoted one), and the wait for a healthy cluster again.
/// </summary>
public static class ClusterNodes
{
    /// <summary>How long a healthy cluster may take to come back (node timeout 2 s, election, a full resync of the restarted node).</summary>
    public static readonly TimeSpan HealLimit = TimeSpan.FromSeconds(60);

    /// <summary>The loopback ports of the cluster's nodes, from <see cref="RedisClusterTestServer"/>.</summary>
    public static IReadOnlyList<int> Ports =>
        [.. RedisClusterTestServer.GetSeeds().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s[(s.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture))];

    /// <summary>The primary that serves <paramref name="key"/>'s slot, as the connection sees it.</summary>
    public static IServer PrimaryOf(IConnectionMultiplexer redis, RedisKey key) => redis.GetServer(key);

    /// <summary>The port of the replica that follows the primary on <paramref name="primaryPort"/>.</summary>
    public static async Task<int> ReplicaOfAsync(int primaryPort)
    {
        var nodes = ParseNodes(await CliAsync(primaryPort, "cluster", "nodes"));
        var primary = nodes.Single(n => n.Port == primaryPort);
        return nodes.Single(n => n.Primary == primary.Id && !n.Flags.Contains("fail", StringComparison.Ordinal)).Port;
    }

    /// <summary>The port a server listens on.</summary>
    public static int PortOf(IServer server) => ((IPEndPoint)server.EndPoint).Port;

    /// <summary>Whether the node on <paramref name="port"/> says it is a primary.</summary>
    public static async Task<bool> IsPrimaryAsync(int port) =>
        (await CliAsync(port, "role")).StartsWith("master", StringComparison.Ordinal);

    /// <summary>The process of the node on <paramref name="port"/>, read before a test kills it so that the kill follows its last call at once.</summary>
    public static async Task<NodeProcess> ProcessOfAsync(int port)
    {
        var pid = int.Parse(InfoField(await CliAsync(port, "info", "server"), "process_id"), CultureInfo.InvariantCulture);
        var dir = (await CliAsync(port, "config", "get", "dir")).Split('\n')[1].Trim();
        var timeout = (await CliAsync(port, "config", "get", "cluster-node-timeout")).Split('\n')[1].Trim();
        return new NodeProcess(port, pid, dir, timeout);
    }

    /// <summary>Kills the node with SIGKILL (kill -9) and waits until it is gone.</summary>
    public static async Task KillAsync(NodeProcess node)
    {
        using var process = Process.GetProcessById(node.Pid);
        process.Kill();
        await process.WaitForExitAsync();
    }

    /// <summary>Stops (SIGSTOP) or continues (SIGCONT) the node's process: a stopped node keeps its connections but answers nothing.</summary>
    public static Task SignalAsync(NodeProcess node, bool stop) =>
        RunAsync("kill", [stop ? "-STOP" : "-CONT", node.Pid.ToString(CultureInfo.InvariantCulture)]);

    /// <summary>
    /// Cuts the primary off its replica while both keep running and the cluster stays ok: the primary
    /// (through <paramref name="primary"/>'s authenticated connection) starts to require a password
    /// and drops its replica's link, so the replica's reconnections fail (NOAUTH) and every write
    /// from now on stays on the primary alone. Waits until the replica reports its link down.
    /// Undone by killing the primary: the password is not persisted.
    /// </summary>
    public static async Task CutReplicationAsync(IServer primary, int replicaPort)
    {
        await primary.ExecuteAsync("CONFIG", "SET", "requirepass", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        await primary.ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
        await UntilAsync(
            async () => InfoField(await CliAsync(replicaPort, "info", "replication"), "master_link_status") == "down",
            "the replica lost its link to the primary",
            TimeSpan.FromSeconds(10));
    }

    /// <summary>Asks the replica on <paramref name="replicaPort"/> to take over from its primary (<c>CLUSTER FAILOVER</c>, coordinated: no write is lost).</summary>
    public static Task ManualFailoverAsync(int replicaPort) => CliAsync(replicaPort, "cluster", "failover");

    /// <summary>
    /// Starts a killed node again on its port and data folder (its nodes.conf makes it rejoin the
    /// cluster); a node a failed test did not get to kill is killed first, so that nothing the test
    /// changed on it (a password) outlives the test.
    /// </summary>
    public static async Task RestartAsync(NodeProcess node)
    {
        try
        {
            using var process = Process.GetProcessById(node.Pid);
            if (process.ProcessName.StartsWith("redis-server", StringComparison.Ordinal))
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
        catch (ArgumentException)
        {
            // Already gone.
        }

        var port = node.Port.ToString(CultureInfo.InvariantCulture);
        await RunAsync("redis-server", [
            "--port", port, "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", node.NodeTimeout, "--save", string.Empty, "--appendonly", "no", "--maxmemory-policy", "noeviction",
            "--daemonize", "yes", "--dir", node.Directory, "--pidfile", Path.Combine(node.Directory, "redis.pid"), "--logfile", Path.Combine(node.Directory, "redis.log")]);
    }

    /// <summary>
    /// Waits until every node answers, says <c>cluster_state:ok</c>, sees three primaries and three
    /// replicas none of which is failing, and every replica's link to its primary is up.
    /// </summary>
    public static Task WaitHealthyAsync() => UntilAsync(IsHealthyAsync, "the cluster is healthy again (cluster_state:ok on all six nodes, 3 primaries, 3 synced replicas)", HealLimit);

    /// <summary>Checks <paramref name="condition"/> every 50 ms until it holds; fails after <paramref name="limit"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string because, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Not within {limit.TotalSeconds:0.#} s: {because}. Nodes: {await DescribeAsync()}");
            }

            // Cluster state changes announce themselves to no client: this polls the nodes.
            await Task.Delay(50);
        }
    }

    /// <summary>One line per node: port, role, cluster state.</summary>
    public static async Task<string> DescribeAsync()
    {
        var lines = new List<string>();
        foreach (var port in Ports)
        {
            var role = await TryCliAsync(port, "role");
            var info = await TryCliAsync(port, "cluster", "info");
            lines.Add($"{port} {role?.Split('\n')[0].Trim() ?? "down"} {(info is null ? "down" : InfoField(info, "cluster_state"))}");
        }

        return string.Join("; ", lines);
    }

    private static async Task<bool> IsHealthyAsync()
    {
        foreach (var port in Ports)
        {
            var info = await TryCliAsync(port, "cluster", "info");
            if (info is null || InfoField(info, "cluster_state") != "ok")
            {
                return false;
            }

            var nodes = ParseNodes(await CliAsync(port, "cluster", "nodes"));
            if (nodes.Count != Ports.Count || nodes.Any(n => n.Flags.Contains("fail", StringComparison.Ordinal) || n.Flags.Contains("handshake", StringComparison.Ordinal)) ||
                nodes.Count(n => n.Flags.Contains("master", StringComparison.Ordinal)) != 3)
            {
                return false;
            }

            var replication = await CliAsync(port, "info", "replication");
            if (InfoField(replication, "role") == "slave" && InfoField(replication, "master_link_status") != "up")
            {
                return false;
            }
        }

        return true;
    }

    private static string InfoField(string info, string field) =>
        info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..] ?? string.Empty;

    private static List<Node> ParseNodes(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
        {
            var parts = line.Split(' ');
            var address = parts[1].Split('@')[0];
            return new Node(parts[0], int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture), parts[2], parts[3]);
        })];

    private static async Task<string?> TryCliAsync(int port, params string[] args)
    {
        try
        {
            return await CliAsync(port, args);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static Task<string> CliAsync(int port, params string[] args) =>
        RunAsync("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture), .. args]);

    private static async Task<string> RunAsync(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        if (process.ExitCode != 0 || text.StartsWith("Could not connect", StringComparison.Ordinal) || text.StartsWith("ERR", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {text}{await error}");
        }

        return text;
    }

    /// <summary>A node of <c>CLUSTER NODES</c>: id, port, flags, the id of its primary (<c>-</c> for a primary).</summary>
    private sealed record Node(string Id, int Port, string Flags, string Primary);
}

/// <summary>A node's process: its pid, and what it takes to start it again after <see cref="ClusterNodes.KillAsync"/>.</summary>
public sealed record NodeProcess(int Port, int Pid, string Directory, string NodeTimeout);
