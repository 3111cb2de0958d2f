using System.Diagnostics;
using System.Globalization;
using Leasing;
using Leasing.Redis;
using StackExchange.Redis;

/// <summary>
/// A closed-loop throughput check: W workers each run pairs back to back for a fixed time. Pool:
/// ChannelPool.AcquireAsync + ReleaseAsync over N channels on RedisLeaseStore. Raw: two trivial
/// EVALSHA calls (compare-and-pexpire on one key of the worker). Rounds alternate, so load from
/// elsewhere on the machine falls on both sides of the ratio.
/// </summary>
internal static class Bench
{
    private const string RawScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

    public static async Task<int> RunAsync(IConnectionMultiplexer redis, string[] args)
    {
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        var workers = Arg(2, 64);
        var channels = Arg(3, 2000);
        var seconds = Arg(4, 1);
        var rounds = Arg(5, 5);
        var run = Guid.NewGuid().ToString("N")[..8];
        var db = redis.GetDatabase();

        var sha = (byte[])(await redis.GetServers()[0].ExecuteAsync("SCRIPT", "LOAD", RawScript))!;
        sha = Convert.FromHexString(System.Text.Encoding.ASCII.GetString(sha));
        var rawKeys = Enumerable.Range(0, workers).Select(w => (RedisKey)$"bench-raw:{run}:{w}").ToArray();
        foreach (var key in rawKeys)
        {
            await db.StringSetAsync(key, "owner", TimeSpan.FromMinutes(5));
        }

        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = "leasing-bench" });
        await using var pool = new ChannelPool(store, new ChannelPoolOptions
        {
            Name = $"bench-{run}",
            Channels = Enumerable.Range(0, channels).Select(i => $"ch-{i}").ToList(),
        });

        Func<int, Task> raw = async w =>
        {
            await db.ScriptEvaluateAsync(sha, [rawKeys[w]], ["owner", 60000]);
            await db.ScriptEvaluateAsync(sha, [rawKeys[w]], ["owner", 60000]);
        };
        Func<int, Task> pooled = async _ =>
        {
            var lease = await pool.AcquireAsync();
            await lease.ReleaseAsync();
        };

        Func<int, Task> alone = async _ =>
        {
            var lease = await store.TryAcquireLeastRecentlyUsedAsync(pool.Name, TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("No free channel.");
            await store.ReleaseAsync(lease);
        };

        await RateAsync(workers, TimeSpan.FromSeconds(1), raw);
        await RateAsync(workers, TimeSpan.FromSeconds(1), pooled);
        await RateAsync(workers, TimeSpan.FromSeconds(1), alone);
        var rawRates = new List<double>();
        var poolRates = new List<double>();
        var aloneRates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            rawRates.Add(await RateAsync(workers, TimeSpan.FromSeconds(seconds), raw));
            poolRates.Add(await RateAsync(workers, TimeSpan.FromSeconds(seconds), pooled));
            aloneRates.Add(await RateAsync(workers, TimeSpan.FromSeconds(seconds), alone));
            Console.WriteLine(FormattableString.Invariant($"round {round + 1}: raw 2x EVALSHA {rawRates[^1]:N0} pairs/s, pool {poolRates[^1]:N0} pairs/s (ratio {poolRates[^1] / rawRates[^1]:F2}), store alone {aloneRates[^1]:N0} pairs/s"));
        }

        var rawMedian = Median(rawRates);
        var poolMedian = Median(poolRates);
        Console.WriteLine(FormattableString.Invariant($"median: pool acquire+release {poolMedian:N0} pairs/s, raw 2x EVALSHA {rawMedian:N0} pairs/s, ratio {poolMedian / rawMedian:F2}; store alone {Median(aloneRates):N0} pairs/s ({workers} workers, {channels} channels)"));
        try
        {
            var stats = ((string?)await redis.GetServers()[0].ExecuteAsync("INFO", "commandstats") ?? string.Empty).Split("\r\n").Where(l => l.StartsWith("cmdstat_evalsha", StringComparison.Ordinal));
            Console.WriteLine($"server: {string.Join(" ", stats)} (since the server's last stats reset, all clients)");
        }
        catch (RedisCommandException)
        {
            Console.WriteLine("server script time: add allowAdmin=true to the connection string to print it");
        }
        await db.KeyDeleteAsync(rawKeys);
        return 0;
    }

    private static async Task<double> RateAsync(int workers, TimeSpan duration, Func<int, Task> pair)
    {
        var stop = 0;
        var counts = new long[workers];
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                await pair(w);
                counts[w]++;
            }
        })).ToArray();
        await Task.Delay(duration);
        Volatile.Write(ref stop, 1);
        var elapsed = clock.Elapsed;
        var done = counts.Sum();
        await Task.WhenAll(tasks);
        return done / elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
