using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Leasing.Benchmarks.Baselines;
using Leasing.InMemory;
using Leasing.Redis;
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
    private const int FewChannels = 16; // more workers than channels: the contended case
    private const int Rounds = 5;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly TimeSpan _warmup;
    private readonly TimeSpan _duration;
    private readonly string _runId = Guid.NewGuid().ToString("N")[..10];
    private readonly QuickResults _results = new();
    private readonly Dictionary<string, string> _notes = [];
    private readonly List<ChannelLease> _held = []; // the 1,900 leases of the full-pool run, held to the end

    private QuickRun(TimeSpan duration)
    {
        _duration = duration;
        _warmup = TimeSpan.FromSeconds(Math.Clamp(duration.TotalSeconds / Rounds / 3, 0.2, 0.5));
    }

    private string Prefix => $"bench:{_runId}";

    private string PeerApplicationName => $"leasing-bench-{_runId}-peer";

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
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
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
            await MeasureDuplicatesAsync(redis, redisConfiguration).ConfigureAwait(false);
            await MeasurePostgresAsync(postgres, postgresConnectionString).ConfigureAwait(false);
        }
        finally
        {
            var keys = await Cleanup.RedisAsync(redis, _runId).ConfigureAwait(false);
            var tables = await Cleanup.PostgresAsync(postgres, Backends.PostgresTablePrefix(_runId)).ConfigureAwait(false);
            var advisory = await Cleanup.PostgresAdvisoryLocksAsync(postgres, PeerApplicationName).ConfigureAwait(false);
            Console.Error.WriteLine($"removed this run's {keys} Redis keys and {tables} PostgreSQL tables and sequences; peer advisory locks still held: {advisory} (they go with the peer's connections)");
        }
    }

    private async Task MeasureDuplicatesAsync(ConnectionMultiplexer redis, string configuration)
    {
        Console.Error.WriteLine("idempotency: 50 parallel duplicates in one process (worst of 20 keys); 8 processes at once");
        var (executions, claims, _) = await DuplicateCalls.InProcessAsync(new InMemoryIdempotencyStore(), _runId).ConfigureAwait(false);
        var (redisExecutions, redisClaims, _) = await DuplicateCalls.InProcessAsync(new RedisIdempotencyStore(redis), _runId).ConfigureAwait(false);
        var processes = await DuplicateCalls.AcrossProcessesAsync(redis, configuration, _runId).ConfigureAwait(false);
        _notes["duplicates"] = $"in-memory: {executions} execution(s), {claims} claim(s); Redis: {redisExecutions} execution(s), {redisClaims} claim(s)";
        _notes["duplicates-met"] = executions == 1 && claims == 1 && redisExecutions == 1 && redisClaims == 1 ? "yes" : "**no**";
        _notes["processes"] = $"{processes} execution(s)";
        _notes["processes-met"] = processes == 1 ? "yes" : "**no**";
        Console.Error.WriteLine($"  one process: {_notes["duplicates"]}; 8 processes on Redis: {_notes["processes"]}");
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

        var raw = await RawEvalsha.CreateAsync(redis, Prefix, Channels).ConfigureAwait(false);
        var rawRotation = new int[RedisWorkers];
        var mutexPool = new GlobalMutexPool(db, Prefix, Channels);
        var claimPool = await ReadThenClaimPool.CreateAsync(db, server, Prefix, Channels).ConfigureAwait(false);
        var scenarios = new List<Scenario>
        {
            new("raw 2x EVALSHA", w => raw.PairAsync((w * 31) + (rawRotation[w]++ % 31)), x => figures.RawEvalshaPairsPerSecond = x),
            new("global-mutex pool", async _ => await mutexPool.ReleaseAsync(await mutexPool.AcquireAsync().ConfigureAwait(false)).ConfigureAwait(false), x => figures.GlobalMutexPairsPerSecond = x),
            new("read-all-then-claim pool", async _ => await claimPool.ReleaseAsync(await claimPool.AcquireAsync().ConfigureAwait(false)).ConfigureAwait(false), x => figures.ReadThenClaimPairsPerSecond = x),
        };

        var store = Backends.Redis(redis);
        await using var pool2000 = await OpenPoolAsync(store, "2000", Channels).ConfigureAwait(false);
        await using var pool100 = await OpenPoolAsync(store, "100", 100).ConfigureAwait(false);
        await using var pool16 = await OpenPoolAsync(store, "16", FewChannels).ConfigureAwait(false);
        await using var pool100k = await OpenPoolAsync(store, "100k", 100_000).ConfigureAwait(false);
        var (holders, full95) = await OpenFull95Async(store).ConfigureAwait(false);
        await using (holders.ConfigureAwait(false))
        await using (full95.ConfigureAwait(false))
        {
            scenarios.Add(new("pool, 2,000 channels", _ => PairAsync(pool2000), x => figures.PairsPerSecond = x));
            scenarios.Add(new("pool, 100 channels", _ => PairAsync(pool100), x => figures.PairsPerSecond100 = x));
            scenarios.Add(new("pool, 16 channels", _ => PairAsync(pool16), x => figures.PairsPerSecond16 = x));
            scenarios.Add(new("pool, 16 channels, fenced state read and stored per use", _ => StatePairAsync(pool16), x => figures.StatePairsPerSecond16 = x));
            scenarios.Add(new("pool, 100,000 channels", _ => PairAsync(pool100k), x => figures.PairsPerSecond100k = x));
            scenarios.Add(new("pool, 1,900 of 2,000 held", _ => PairAsync(full95), x => figures.PairsPerSecondFull95 = x));
            var storePool = pool2000.Name;
            scenarios.Add(new("store alone (no ChannelPool), 2,000 channels", async _ =>
            {
                var lease = await store.TryAcquireLeastRecentlyUsedAsync(storePool, TimeSpan.FromSeconds(30)).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("No free channel for the store-alone run.");
                await store.ReleaseAsync(lease).ConfigureAwait(false);
            }, x => _notes["redis-store-alone"] = x.ToString("N0", CultureInfo.InvariantCulture) + "/s"));

            // The peer (madelson's DistributedLock) on the same multiplexer: keys under the run id.
            var peerProbe = PeerRingProbe.Redis(db, $"{Prefix}:peer{Channels}", Channels);
            var peerProbe16 = PeerRingProbe.Redis(db, $"{Prefix}:peer{FewChannels}", FewChannels);
            var peerSemaphore16 = new PeerSemaphore(db, $"{Prefix}:peer-semaphore{FewChannels}", FewChannels);
            scenarios.Add(new("peer ring probe (DistributedLock.Redis), 2,000 channels", _ => peerProbe.PairAsync(), x => figures.PeerProbePairsPerSecond = x));
            scenarios.Add(new("peer ring probe (DistributedLock.Redis), 16 channels", _ => peerProbe16.PairAsync(), x => figures.PeerProbePairsPerSecond16 = x));
            scenarios.Add(new("peer semaphore (RedisDistributedSemaphore), 16 slots", _ => peerSemaphore16.PairAsync(), x => figures.PeerSemaphorePairsPerSecond16 = x));
            Console.Error.WriteLine($"Redis: {RedisWorkers} workers, {Rounds} interleaved rounds per figure (median)");
            await RunRoundsAsync("redis", RedisWorkers, scenarios, new RedisServerCpu(server)).ConfigureAwait(false);
        }

        await MeasureLatencyAsync(store, raw).ConfigureAwait(false);
        Progress("sequential acquire p50", figures.AcquireP50Micros!.Value, "µs");
        Progress("sequential raw EVALSHA p50", figures.RawEvalshaP50Micros!.Value, "µs");

        await CountCommandsAsync(configuration).ConfigureAwait(false);
    }

    /// <summary>
    /// Measures every scenario in <see cref="Rounds"/> interleaved rounds and keeps each one's median,
    /// so load from elsewhere on a shared machine falls on all of them alike.
    /// </summary>
    private async Task RunRoundsAsync(string backend, int workers, IReadOnlyList<Scenario> scenarios, IServerCpu server)
    {
        var rates = scenarios.Select(_ => new List<double>()).ToArray();
        var cpus = scenarios.Select(_ => new List<CpuPerPair>()).ToArray();
        var perRound = TimeSpan.FromSeconds(Math.Max(0.5, _duration.TotalSeconds / Rounds)); // the slow baselines need some completions per round
        foreach (var scenario in scenarios)
        {
            await ClosedLoop.WarmAsync(workers, _warmup + _warmup, scenario.Pair).ConfigureAwait(false); // JIT and connections warm before any round counts
        }

        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < scenarios.Count; i++)
            {
                var (rate, cpu) = await ClosedLoop.MeasureAsync(workers, _warmup, perRound, scenarios[i].Pair, server).ConfigureAwait(false);
                rates[i].Add(rate);
                cpus[i].Add(cpu);
            }
        }

        for (var i = 0; i < scenarios.Count; i++)
        {
            var median = ClosedLoop.Median(rates[i]);
            scenarios[i].Record(median);
            var client = ClosedLoop.Median(cpus[i].Select(c => c.ClientMicros));
            var serverMicros = cpus[i].All(c => c.ServerMicros is not null) ? ClosedLoop.Median(cpus[i].Select(c => c.ServerMicros!.Value)) : (double?)null;
            var cpuText = string.Create(CultureInfo.InvariantCulture, $"CPU per pair: client {client:N0} µs, {server.Name} {(serverMicros is { } s ? s.ToString("N0", CultureInfo.InvariantCulture) + " µs" : "n/a")}");
            _results.CpuMicrosPerPair[$"{backend}: {scenarios[i].Label}"] = new CpuFigures { Client = client, Server = serverMicros };
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {scenarios[i].Label}: {median:N0} pairs/s (rounds: {string.Join(", ", rates[i].Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}); {cpuText}"));
        }
    }

    private static async ValueTask PairAsync(ChannelPool pool) =>
        await (await pool.AcquireAsync().ConfigureAwait(false)).ReleaseAsync().ConfigureAwait(false);

    /// <summary>A relayer's use: acquire, read the channel's sequence number, store the next one, release.</summary>
    private static async ValueTask StatePairAsync(ChannelPool pool)
    {
        var lease = await pool.AcquireAsync().ConfigureAwait(false);
        var state = await lease.GetStateBytesAsync().ConfigureAwait(false);
        var next = (state is { Data.Length: 8 } ? BitConverter.ToInt64(state.Data.Span) : 0) + 1;
        if (!await lease.TrySetStateBytesAsync(BitConverter.GetBytes(next)).ConfigureAwait(false))
        {
            throw new InvalidOperationException("A held channel's state write was refused.");
        }

        await lease.ReleaseAsync().ConfigureAwait(false);
    }

    private async Task<ChannelPool> OpenPoolAsync(ILeaseStore store, string suffix, int channels)
    {
        var pool = new ChannelPool(store, new ChannelPoolOptions { Name = $"bench-{_runId}-{suffix}", Channels = ChannelIds(channels) });
        await PairAsync(pool).ConfigureAwait(false); // writes the members
        return pool;
    }

    /// <summary>2,000 channels of which 1,900 are taken now with a 1-hour lease and held (not renewed, not released) for the whole run.</summary>
    private async Task<(ChannelPool Holders, ChannelPool Pool)> OpenFull95Async(ILeaseStore store)
    {
        var name = $"bench-{_runId}-full95";
        var channels = ChannelIds(Channels);
        var holders = new ChannelPool(store, new ChannelPoolOptions
        {
            Name = name,
            Channels = channels,
            LeaseDuration = TimeSpan.FromHours(1),
            AutoRenew = false,
        });
        for (var i = 0; i < 1_900; i++)
        {
            _held.Add(await holders.TryAcquireAsync().ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Only {i} of 1,900 channels could be taken before the full-pool run."));
        }

        var pool = new ChannelPool(store, new ChannelPoolOptions { Name = name, Channels = channels });
        return (holders, pool);
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
        var store = Backends.Redis(redis);
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

        // Short windows, many of them: other clients of a shared server can only add to a window, and
        // the cleanest (least) window is kept.
        const int operations = 25;
        const int windows = 20;
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
            },
            windows: windows).ConfigureAwait(false);

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
            },
            windows: windows).ConfigureAwait(false);

        var renewed = await pool.AcquireAsync().ConfigureAwait(false);
        var renew = await counter.CountAsync(
            operations,
            async _ =>
            {
                if (!await renewed.RenewAsync().ConfigureAwait(false))
                {
                    throw new InvalidOperationException("A held lease could not be renewed.");
                }
            },
            windows: windows).ConfigureAwait(false);
        await renewed.ReleaseAsync().ConfigureAwait(false);

        var countedRaw = await RawEvalsha.CreateAsync(redis, Prefix, Channels).ConfigureAwait(false);
        var rawCount = await counter.CountAsync(operations, async i => await countedRaw.CallAsync(i).ConfigureAwait(false), windows: windows).ConfigureAwait(false);
        _notes["redis-server-micros"] = string.Create(CultureInfo.InvariantCulture,
            $"acquire {acquire.ServerMicrosPerOp:0.0} µs, release {release.ServerMicrosPerOp:0.0} µs, renew {renew.ServerMicrosPerOp:0.0} µs; raw EVALSHA {rawCount.ServerMicrosPerOp:0.0} µs");
        Console.Error.WriteLine($"  Redis server time per call: {_notes["redis-server-micros"]}");
        _results.Redis.ServerMicrosAcquire = acquire.ServerMicrosPerOp;
        _results.Redis.ServerMicrosTrivial = rawCount.ServerMicrosPerOp;

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

    private async Task MeasurePostgresAsync(NpgsqlDataSource postgres, string connectionString)
    {
        await using var raw = await RawUpsert.CreateAsync(postgres, $"{Backends.PostgresTablePrefix(_runId)}raw", Channels).ConfigureAwait(false);
        var rotation = new int[PostgresWorkers];
        var scenarios = new List<Scenario>
        {
            new("raw 2x upsert", w => raw.PairAsync((w * 125) + (rotation[w]++ % 125)), x => _results.Postgres.RawUpsertPairsPerSecond = x),
        };

        var store = await Backends.PostgresAsync(postgres, _runId).ConfigureAwait(false);
        await using var vacuum = Backends.VacuumLikeTheHost(store);
        await using var pool = await OpenPoolAsync(store, "pg", Channels).ConfigureAwait(false);
        await using var pool16 = await OpenPoolAsync(store, "pg16", FewChannels).ConfigureAwait(false);
        scenarios.Add(new("pool, 2,000 channels", _ => PairAsync(pool), x => _results.Postgres.PairsPerSecond = x));
        scenarios.Add(new("pool, 16 channels", _ => PairAsync(pool16), x => _results.Postgres.PairsPerSecond16 = x));
        scenarios.Add(new("pool, 16 channels, fenced state read and stored per use", _ => StatePairAsync(pool16), x => _results.Postgres.StatePairsPerSecond16 = x));
        var unlogged = await Backends.PostgresAsync(postgres, _runId, unlogged: true).ConfigureAwait(false);
        await using var unloggedVacuum = Backends.VacuumLikeTheHost(unlogged);
        await using var unloggedPool = await OpenPoolAsync(unlogged, "pgu", Channels).ConfigureAwait(false);
        await using var unloggedPool16 = await OpenPoolAsync(unlogged, "pgu16", FewChannels).ConfigureAwait(false);
        scenarios.Add(new("pool on UNLOGGED lease tables, 2,000 channels", _ => PairAsync(unloggedPool), x => _results.Postgres.UnloggedPairsPerSecond = x));
        scenarios.Add(new("pool on UNLOGGED lease tables, 16 channels", _ => PairAsync(unloggedPool16), x => _results.Postgres.UnloggedPairsPerSecond16 = x));

        // The peer as its users run it: a connection string (its own Npgsql pool, the library's
        // default connection multiplexing); an application name of the run's own, to find its locks.
        var peerConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = PeerApplicationName }.ConnectionString;
        var peerProbe = PeerRingProbe.Postgres(peerConnectionString, $"{Prefix}:peer{Channels}", Channels);
        var peerProbe16 = PeerRingProbe.Postgres(peerConnectionString, $"{Prefix}:peer{FewChannels}", FewChannels);
        scenarios.Add(new("peer ring probe (DistributedLock.Postgres), 2,000 channels", _ => peerProbe.PairAsync(), x => _results.Postgres.PeerProbePairsPerSecond = x));
        scenarios.Add(new("peer ring probe (DistributedLock.Postgres), 16 channels", _ => peerProbe16.PairAsync(), x => _results.Postgres.PeerProbePairsPerSecond16 = x));
        Console.Error.WriteLine($"PostgreSQL: {PostgresWorkers} workers, {Rounds} interleaved rounds per figure (median)");
        await RunRoundsAsync("postgres", PostgresWorkers, scenarios, await LocalPostgresCpu.ForAsync(postgres, new NpgsqlConnectionStringBuilder(connectionString).Host ?? string.Empty).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private sealed record Scenario(string Label, Func<int, ValueTask> Pair, Action<double> Record);
}
