using System.Globalization;
using System.Security.Cryptography;
using Leasing.Redis;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// <c>--cluster</c>: what <see cref="RedisLeasingOptions.WaitForReplicas"/> costs on the Redis
/// Cluster in <c>LEASING_REDIS_CLUSTER</c> (eng/services.sh starts a local one): pairs/s with the
/// option off and at 1, measured in interleaved rounds (median of 5) as the quick run does, and the
/// median latency of one acquire. Writes only keys carrying a fresh run id and deletes them at the end.
/// </summary>
internal static class ClusterWaitCost
{
    public const string Switch = "--cluster";

    private const int Workers = 64;
    private const int Channels = 2_000;
    private const int Rounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var seeds = Environment.GetEnvironmentVariable("LEASING_REDIS_CLUSTER");
        if (string.IsNullOrWhiteSpace(seeds))
        {
            Console.Error.WriteLine("LEASING_REDIS_CLUSTER is not set. Start the local cluster and export its nodes with: eval \"$(eng/services.sh start)\"");
            return 1;
        }

        var secondsAt = Array.IndexOf(args, "--seconds");
        var seconds = secondsAt >= 0 && secondsAt + 1 < args.Length ? double.Parse(args[secondsAt + 1], CultureInfo.InvariantCulture) : 3;
        var round = TimeSpan.FromSeconds(seconds / Rounds);
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var options = ConfigurationOptions.Parse(seeds);
        options.AllowAdmin = true; // SCAN for the run's own keys
        options.ClientName = $"leasing-bench-{runId}";
        using var redis = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        var primaries = redis.GetServers().Where(s => !s.IsReplica).ToArray();
        Console.Error.WriteLine($"run {runId}: Redis Cluster {seeds} ({primaries.Length} primaries, {redis.GetServers().Length - primaries.Length} replicas)");

        try
        {
            var off = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = $"bench:{runId}" });
            var on = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = $"bench:{runId}", WaitForReplicas = 1 });
            await using var poolOff = await OpenPoolAsync(off, $"bench-{runId}-off").ConfigureAwait(false);
            await using var poolOn = await OpenPoolAsync(on, $"bench-{runId}-on").ConfigureAwait(false);
            var keys = Enumerable.Range(0, Workers).Select(i => $"bench-{runId}-lock-{i}").ToArray();

            (string Label, Func<int, ValueTask> Pair)[] scenarios =
            [
                ("pool pairs, WaitForReplicas 0", _ => PairAsync(poolOff)),
                ("pool pairs, WaitForReplicas 1", _ => PairAsync(poolOn)),
                ("lock pairs (64 keys on all primaries), WaitForReplicas 0", w => LockPairAsync(off, keys[w])),
                ("lock pairs (64 keys on all primaries), WaitForReplicas 1", w => LockPairAsync(on, keys[w])),
            ];
            foreach (var (_, pair) in scenarios)
            {
                await ClosedLoop.WarmAsync(Workers, round, pair).ConfigureAwait(false);
            }

            var rates = scenarios.Select(_ => new List<double>()).ToArray();
            for (var r = 0; r < Rounds; r++)
            {
                for (var i = 0; i < scenarios.Length; i++)
                {
                    rates[i].Add(await ClosedLoop.RateAsync(Workers, TimeSpan.Zero, round, scenarios[i].Pair).ConfigureAwait(false));
                }
            }

            var medians = rates.Select(ClosedLoop.Median).ToArray();
            var latencyOff = new List<double>();
            var latencyOn = new List<double>();
            for (var block = 0; block < 4; block++)
            {
                latencyOff.AddRange(await ClosedLoop.SampleMicrosAsync(250, () => off.TryAcquireAsync(keys[0], TimeSpan.FromMinutes(1)), l => ReleaseAsync(off, l)).ConfigureAwait(false));
                latencyOn.AddRange(await ClosedLoop.SampleMicrosAsync(250, () => on.TryAcquireAsync(keys[0], TimeSpan.FromMinutes(1)), l => ReleaseAsync(on, l)).ConfigureAwait(false));
            }

            Console.WriteLine();
            Console.WriteLine($"| WaitForReplicas on the Redis Cluster ({Workers} workers, pool of {Channels:N0} channels) | 0 | 1 | ratio 1 / 0 |");
            Console.WriteLine("| --- | --- | --- | --- |");
            Console.WriteLine(Row("ChannelPool acquire+release pairs/s", medians[0], medians[1], "N0"));
            Console.WriteLine(Row("lock acquire+release pairs/s (64 keys, all primaries)", medians[2], medians[3], "N0"));
            Console.WriteLine(Row("acquire p50 µs (one sequential caller)", ClosedLoop.Median(latencyOff), ClosedLoop.Median(latencyOn), "N0"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {seconds:0.#} s per rate; rounds: {string.Join("; ", scenarios.Select((s, i) => $"{s.Label}: {string.Join(", ", rates[i].Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))}"))}"));
            return 0;
        }
        finally
        {
            var removed = 0;
            foreach (var primary in primaries)
            {
                await foreach (var key in primary.KeysAsync(pattern: $"*{runId}*", pageSize: 1_000).ConfigureAwait(false))
                {
                    removed += await redis.GetDatabase().KeyDeleteAsync(key).ConfigureAwait(false) ? 1 : 0;
                }
            }

            Console.Error.WriteLine($"removed this run's {removed} Redis keys");
        }
    }

    private static string Row(string what, double off, double on, string format) =>
        string.Create(CultureInfo.InvariantCulture, $"| {what} | {off.ToString(format, CultureInfo.InvariantCulture)} | {on.ToString(format, CultureInfo.InvariantCulture)} | {on / off:0.00}x |");

    private static async Task<ChannelPool> OpenPoolAsync(ILeaseStore store, string name)
    {
        var pool = new ChannelPool(store, new ChannelPoolOptions { Name = name, Channels = [.. Enumerable.Range(0, Channels).Select(i => $"ch-{i}")] });
        await PairAsync(pool).ConfigureAwait(false); // writes the members
        return pool;
    }

    private static async ValueTask PairAsync(ChannelPool pool) =>
        await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false);

    private static async ValueTask LockPairAsync(RedisLeaseStore store, string key)
    {
        var lease = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{key} is held: each worker has its own key.");
        await store.ReleaseAsync(lease).ConfigureAwait(false);
    }

    private static async ValueTask ReleaseAsync(RedisLeaseStore store, Lease? lease)
    {
        _ = await store.ReleaseAsync(lease ?? throw new InvalidOperationException("The key is held.")).ConfigureAwait(false);
    }
}
