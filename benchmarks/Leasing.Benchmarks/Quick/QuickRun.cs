using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Leasing.Benchmarks.Baselines;
using Leasing.InMemory;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// The quick comparison (no BenchmarkDotNet): the library against the physical limit (raw round
/// trips) and against the two designs it replaced, on the same servers in one run. Prints a markdown
/// table; with <c>--json PATH</c> also writes the figures. Fails (exit code 1) when a server is
/// unreachable or any operation fails.
/// </summary>
internal sealed class QuickRun
{
    private const int RedisWorkers = 64;
    private const int PostgresWorkers = 16;
    private const int Channels = 2_000;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly TimeSpan _warmup;
    private readonly TimeSpan _duration;
    private readonly string _runId = Guid.NewGuid().ToString("N")[..10];
    private readonly QuickResults _results = new();
    private readonly Dictionary<string, string> _notes = [];

    private QuickRun(TimeSpan duration)
    {
        _duration = duration;
        _warmup = TimeSpan.FromSeconds(Math.Min(1, duration.TotalSeconds / 3));
    }

    private string Prefix => $"bench:{_runId}";

    public static async Task<int> RunAsync(string[] args)
    {
        var json = Value(args, "--json");
        var seconds = double.Parse(Value(args, "--seconds") ?? "3", CultureInfo.InvariantCulture);
        var run = new QuickRun(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        await run.MeasureAsync().ConfigureAwait(false);

        Console.WriteLine();
        Console.WriteLine(QuickReport.Markdown(run._results, run._notes));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {seconds:0.#} s per rate, total {clock.Elapsed.TotalSeconds:F0} s"));
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(run._results, JsonOptions)).ConfigureAwait(false);
            Console.WriteLine($"wrote {json}");
        }

        return 0;
    }

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        if (i < 0)
        {
            return null;
        }

        return i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} needs a value.", nameof(args));
    }

    private static string[] ChannelIds(int count) => [.. Enumerable.Range(0, count).Select(i => $"ch-{i}")];

    private static void Progress(string what, double value, string unit) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {value:N1} {unit}"));

    private async Task MeasureAsync()
    {
        var (redisConfiguration, postgresConnectionString) = Servers.Resolve();
        using var redis = await Servers.ConnectRedisAsync(redisConfiguration, $"leasing-bench-{_runId}").ConfigureAwait(false);
        await using var postgres = await Servers.ConnectPostgresAsync(postgresConnectionString, PostgresWorkers * 2).ConfigureAwait(false);
        Console.Error.WriteLine($"run {_runId}: Redis {redisConfiguration} ({await redis.GetServers()[0].DatabaseSizeAsync().ConfigureAwait(false)} keys in db), PostgreSQL {new NpgsqlConnectionStringBuilder(postgresConnectionString).Host}:{new NpgsqlConnectionStringBuilder(postgresConnectionString).Port}");

        await MeasureMemoryAsync().ConfigureAwait(false);
        try
        {
            await MeasureRedisAsync(redis, redisConfiguration).ConfigureAwait(false);
            await MeasurePostgresAsync(postgres).ConfigureAwait(false);
        }
        finally
        {
            await CleanUpRedisAsync(redis).ConfigureAwait(false);
            await Backends.DropPostgresAsync(postgres, _runId).ConfigureAwait(false);
        }
    }

    private async Task MeasureMemoryAsync()
    {
        // The pool as users run it (default options, AutoRenew on) on one thread. When every call
        // completes on that thread, its allocation counter covers every byte of a pair; if anything
        // hopped to the thread pool, the count over all threads is taken instead (and said).
        Console.Error.WriteLine("in-memory, one thread");
        var run = await Task.Run(() => SingleThreadAsync(autoRenew: true)).ConfigureAwait(false);
        _results.Memory.PairsPerSecondSingleThread = run.Rate;
        _results.Memory.AllocatedBytesPerPair = run.StayedOnThread ? run.ThreadBytes : run.AllBytes;
        Progress("pairs/s", run.Rate, "");
        Progress(run.StayedOnThread ? "allocated per pair, this thread" : "allocated per pair, all threads (calls completed on other threads)", _results.Memory.AllocatedBytesPerPair.Value, "B");
        var plain = await Task.Run(() => SingleThreadAsync(autoRenew: false)).ConfigureAwait(false);
        Progress("pairs/s with AutoRenew off", plain.Rate, "");
        Progress("allocated per pair with AutoRenew off, all threads", plain.AllBytes, "B");
    }

    private async Task<(double Rate, double ThreadBytes, double AllBytes, bool StayedOnThread)> SingleThreadAsync(bool autoRenew)
    {
        await using var pool = new ChannelPool(new InMemoryLeaseStore(), new ChannelPoolOptions
        {
            Name = $"bench-{_runId}-memory",
            Channels = ChannelIds(Channels),
            AutoRenew = autoRenew,
        });
        for (var i = 0; i < 100_000; i++)
        {
            await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false);
        }

        var thread = Environment.CurrentManagedThreadId;
        var allBefore = GC.GetTotalAllocatedBytes(precise: true);
        var threadBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        long pairs = 0;
        while (clock.Elapsed < _duration)
        {
            for (var i = 0; i < 10_000; i++)
            {
                await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false);
            }

            pairs += 10_000;
        }

        var elapsed = clock.Elapsed;
        var threadBytes = GC.GetAllocatedBytesForCurrentThread() - threadBefore;
        var allBytes = GC.GetTotalAllocatedBytes(precise: true) - allBefore;
        return (pairs / elapsed.TotalSeconds, threadBytes / (double)pairs, allBytes / (double)pairs, Environment.CurrentManagedThreadId == thread);
    }

    private async Task MeasureRedisAsync(ConnectionMultiplexer redis, string configuration)
    {
        var db = redis.GetDatabase();
        var server = redis.GetServers()[0];
        var figures = _results.Redis;

        Console.Error.WriteLine("Redis baselines");
        var raw = await RawEvalsha.CreateAsync(redis, Prefix, Channels).ConfigureAwait(false);
        var rawRotation = new int[RedisWorkers];
        figures.RawEvalshaPairsPerSecond = await ClosedLoop.RateAsync(RedisWorkers, _warmup, _duration,
            w => raw.PairAsync((w * 31) + (rawRotation[w]++ % 31))).ConfigureAwait(false);
        Progress("raw 2x EVALSHA pairs/s", figures.RawEvalshaPairsPerSecond.Value, "");

        var mutexPool = new GlobalMutexPool(db, Prefix, Channels);
        figures.GlobalMutexPairsPerSecond = await ClosedLoop.RateAsync(RedisWorkers, _warmup, _duration,
            async _ => await mutexPool.ReleaseAsync(await mutexPool.AcquireAsync().ConfigureAwait(false)).ConfigureAwait(false)).ConfigureAwait(false);
        Progress("global-mutex pool pairs/s", figures.GlobalMutexPairsPerSecond.Value, "");

        var claimPool = await ReadThenClaimPool.CreateAsync(db, server, Prefix, Channels).ConfigureAwait(false);
        figures.ReadThenClaimPairsPerSecond = await ClosedLoop.RateAsync(RedisWorkers, _warmup, _duration,
            async _ => await claimPool.ReleaseAsync(await claimPool.AcquireAsync().ConfigureAwait(false)).ConfigureAwait(false)).ConfigureAwait(false);
        Progress("read-all-then-claim pool pairs/s", figures.ReadThenClaimPairsPerSecond.Value, "");

        var store = Backends.Redis(redis);
        if (store is null)
        {
            Console.Error.WriteLine("  (no Redis lease store in this build: library figures not measured)");
            var rawSamples = await ClosedLoop.SampleMicrosAsync(2_000, () => new ValueTask<RedisResult>(raw.CallAsync(0)), _ => ValueTask.CompletedTask).ConfigureAwait(false);
            figures.RawEvalshaP50Micros = ClosedLoop.Median(rawSamples);
            return;
        }

        Console.Error.WriteLine("Redis lease store");
        figures.PairsPerSecond = await PoolRateAsync(store, "2000", Channels, RedisWorkers).ConfigureAwait(false);
        Progress("pool pairs/s, 2,000 channels", figures.PairsPerSecond.Value, "");
        figures.PairsPerSecond100 = await PoolRateAsync(store, "100", 100, RedisWorkers).ConfigureAwait(false);
        Progress("pool pairs/s, 100 channels", figures.PairsPerSecond100.Value, "");
        figures.PairsPerSecond100k = await PoolRateAsync(store, "100k", 100_000, RedisWorkers).ConfigureAwait(false);
        Progress("pool pairs/s, 100,000 channels", figures.PairsPerSecond100k.Value, "");
        figures.PairsPerSecondFull95 = await Full95RateAsync(store).ConfigureAwait(false);
        Progress("pool pairs/s, 1,900 of 2,000 held", figures.PairsPerSecondFull95.Value, "");

        await MeasureLatencyAsync(store, raw).ConfigureAwait(false);
        Progress("sequential acquire p50", figures.AcquireP50Micros!.Value, "µs");
        Progress("sequential raw EVALSHA p50", figures.RawEvalshaP50Micros!.Value, "µs");

        await CountCommandsAsync(configuration).ConfigureAwait(false);
    }

    private async Task<double> PoolRateAsync(ILeaseStore store, string suffix, int channels, int workers)
    {
        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = $"bench-{_runId}-{suffix}", Channels = ChannelIds(channels) });
        await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false); // writes the members
        return await ClosedLoop.RateAsync(workers, _warmup, _duration,
            async _ => await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false)).ConfigureAwait(false);
    }

    private async Task<double> Full95RateAsync(ILeaseStore store)
    {
        var name = $"bench-{_runId}-full95";
        var channels = ChannelIds(Channels);
        await using var holders = new ChannelPool(store, new ChannelPoolOptions
        {
            Name = name,
            Channels = channels,
            LeaseDuration = TimeSpan.FromHours(1),
            AutoRenew = false,
        });
        var held = new List<ChannelLease>(1_900);
        for (var i = 0; i < 1_900; i++)
        {
            held.Add(await holders.TryAcquireAsync().ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Only {i} of 1,900 channels could be taken before the full-pool run."));
        }

        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = name, Channels = channels });
        var rate = await ClosedLoop.RateAsync(RedisWorkers, _warmup, _duration,
            async _ => await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false)).ConfigureAwait(false);
        GC.KeepAlive(held); // held for the whole run; their keys go with the run's clean-up
        return rate;
    }

    private async Task MeasureLatencyAsync(ILeaseStore store, RawEvalsha raw)
    {
        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = $"bench-{_runId}-latency", Channels = ChannelIds(Channels) });
        Func<ValueTask<ChannelLease>> acquire = () => pool.AcquireAsync();
        Func<ChannelLease, ValueTask> release = async lease => await lease.ReleaseAsync().ConfigureAwait(false);
        Func<ValueTask<RedisResult>> rawCall = () => new ValueTask<RedisResult>(raw.CallAsync(0));
        Func<RedisResult, ValueTask> nothing = _ => ValueTask.CompletedTask;

        // Warm both, then alternate blocks so drift on a shared machine hits both alike.
        await ClosedLoop.SampleMicrosAsync(300, acquire, release).ConfigureAwait(false);
        await ClosedLoop.SampleMicrosAsync(300, rawCall, nothing).ConfigureAwait(false);
        var acquireSamples = new List<double>();
        var rawSamples = new List<double>();
        for (var block = 0; block < 4; block++)
        {
            rawSamples.AddRange(await ClosedLoop.SampleMicrosAsync(500, rawCall, nothing).ConfigureAwait(false));
            acquireSamples.AddRange(await ClosedLoop.SampleMicrosAsync(500, acquire, release).ConfigureAwait(false));
        }

        _results.Redis.AcquireP50Micros = ClosedLoop.Median(acquireSamples);
        _results.Redis.RawEvalshaP50Micros = ClosedLoop.Median(rawSamples);
    }

    private async Task CountCommandsAsync(string configuration)
    {
        // A multiplexer of its own, so the profiler sees only the counted operations.
        using var redis = await Servers.ConnectRedisAsync(configuration, $"leasing-bench-{_runId}-count").ConfigureAwait(false);
        var store = Backends.Redis(redis)!;
        var counter = new CommandCounter(redis);
        await using var pool = new ChannelPool(store, new ChannelPoolOptions
        {
            Name = $"bench-{_runId}-count",
            Channels = ChannelIds(Channels),
            AutoRenew = false, // a heartbeat must not land in a window
        });
        for (var i = 0; i < 5; i++)
        {
            await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false); // members written, scripts loaded
        }

        const int operations = 200;
        var held = new List<ChannelLease>(operations);
        var acquire = await counter.CountAsync(
            operations,
            async _ => held.Add(await pool.AcquireAsync().ConfigureAwait(false)),
            afterWindow: async () =>
            {
                foreach (var lease in held)
                {
                    await lease.ReleaseAsync().ConfigureAwait(false);
                }

                held.Clear();
            }).ConfigureAwait(false);

        var release = await counter.CountAsync(
            operations,
            async i => await held[i].ReleaseAsync().ConfigureAwait(false),
            beforeWindow: async () =>
            {
                held.Clear();
                for (var i = 0; i < operations; i++)
                {
                    held.Add(await pool.AcquireAsync().ConfigureAwait(false));
                }
            }).ConfigureAwait(false);

        var renewed = await pool.AcquireAsync().ConfigureAwait(false);
        var renew = await counter.CountAsync(
            operations,
            async _ =>
            {
                if (!await renewed.RenewAsync().ConfigureAwait(false))
                {
                    throw new InvalidOperationException("A held lease could not be renewed.");
                }
            }).ConfigureAwait(false);
        await renewed.ReleaseAsync().ConfigureAwait(false);

        _results.Redis.CommandsPerAcquire = acquire.TopLevelPerOp;
        _results.Redis.CommandsPerRelease = release.TopLevelPerOp;
        _results.Redis.CommandsPerRenew = renew.TopLevelPerOp;
        foreach (var (name, count) in new[] { ("acquire", acquire), ("release", release), ("renew", renew) })
        {
            _notes[name] = count.Describe();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  per {name}: {count.TopLevelPerOp:0.##} top-level ({count.Describe()}); client sent {count.ClientSentPerOp:0.##}"));
        }
    }

    private async Task MeasurePostgresAsync(NpgsqlDataSource postgres)
    {
        Console.Error.WriteLine("PostgreSQL");
        await using var raw = await RawUpsert.CreateAsync(postgres, $"bench_raw_{_runId}", Channels).ConfigureAwait(false);
        var rotation = new int[PostgresWorkers];
        _results.Postgres.RawUpsertPairsPerSecond = await ClosedLoop.RateAsync(PostgresWorkers, _warmup, _duration,
            w => raw.PairAsync((w * 125) + (rotation[w]++ % 125))).ConfigureAwait(false);
        Progress("raw 2x upsert pairs/s", _results.Postgres.RawUpsertPairsPerSecond.Value, "");

        var store = await Backends.PostgresAsync(postgres, _runId).ConfigureAwait(false);
        if (store is null)
        {
            Console.Error.WriteLine("  (no PostgreSQL lease store in this build: library figures not measured)");
            return;
        }

        _results.Postgres.PairsPerSecond = await PoolRateAsync(store, "pg", Channels, PostgresWorkers).ConfigureAwait(false);
        Progress("pool pairs/s, 2,000 channels", _results.Postgres.PairsPerSecond.Value, "");
    }

    private async Task CleanUpRedisAsync(ConnectionMultiplexer redis)
    {
        // Only this run's keys (their names carry the run id); never anything else on the shared server.
        var db = redis.GetDatabase();
        var batch = new List<RedisKey>(1_000);
        var removed = 0;
        await foreach (var key in redis.GetServers()[0].KeysAsync(db.Database, $"*{_runId}*", pageSize: 1_000).ConfigureAwait(false))
        {
            batch.Add(key);
            if (batch.Count == 1_000)
            {
                removed += (int)await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            removed += (int)await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
        }

        Console.Error.WriteLine($"removed {removed} keys of run {_runId}");
    }
}
