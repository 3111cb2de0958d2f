using System.Diagnostics;
using System.Globalization;
using Leasing.Cli.Backends;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Cli.Chaos;

/// <summary>
/// The coordinator of <c>leasing chaos</c>: starts the target (a private server when none was
/// named) and the worker processes, injects faults while they run, stops everything, checks the
/// journal. Every child process is killed and every temp folder removed when it ends, also when it
/// is interrupted.
/// </summary>
internal sealed class ChaosRun(ChaosSettings settings, string? connection, TextWriter error)
{
    private readonly ChaosJournal _journal = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private FaultInjector? _injector;

    /// <summary>Names a file to write the whole journal to, as tab-separated lines (times in ms since the run began), to look into a violation.</summary>
    public const string DumpVariable = "LEASING_CHAOS_JOURNAL";

    public int Acquisitions => _journal.Acquisitions;

    public string Stage => _injector?.Current ?? "starting";

    public event Action<string>? Started;

    public async Task<ChaosReport> RunAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new NotSupportedException("leasing chaos needs POSIX signals (SIGSTOP, SIGCONT): run it on Linux or macOS.");
        }

        var logs = Directory.CreateTempSubdirectory("leasing-chaos-").FullName;
        try
        {
            await using var target = await ChaosTarget.OpenAsync(settings.Backend, connection, cancellationToken).ConfigureAwait(false);
            await using (var setup = await ChaosStores.OpenAsync(target.Kind, target.Direct, _run, cancellationToken).ConfigureAwait(false))
            {
                await setup.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            }

            Started?.Invoke(target.Description);
            try
            {
                return await RunWorkersAsync(target, Path.Combine(logs, "workers.log"), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (target.Server is null)
                {
                    await RemoveRunDataAsync(target).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Directory.Delete(logs, recursive: true);
        }
    }

    private async Task<ChaosReport> RunWorkersAsync(ChaosTarget target, string log, CancellationToken cancellationToken)
    {
        var epoch = Stopwatch.GetTimestamp();
        await using var fleet = new WorkerFleet(target.Kind, target.ForWorkers, _run, epoch, _journal, log);
        void KillAll(object? sender, EventArgs e) => fleet.KillAll();
        AppDomain.CurrentDomain.ProcessExit += KillAll; // last resort: no worker outlives the coordinator
        // From before the first grant to after the last: steps of the wall clock the checks must know about.
        using var unwatch = new CancellationTokenSource();
        var watching = new ClockWatch(_journal.ClockStepped).RunAsync(TimeSpan.FromMilliseconds(5), unwatch.Token);
        try
        {
            await fleet.StartAsync(settings.Processes, cancellationToken).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            _injector = new FaultInjector(_journal, fleet, target.Proxy, target.Server, pauseBlocksTheBackend: target.Kind == BackendKind.Sqlite);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var gap = TimeSpan.FromSeconds(Math.Clamp(settings.Duration.TotalSeconds / 40, 0.5, 4));
            var injecting = _injector.RunAsync(TimeSpan.FromSeconds(1.5), gap, stop.Token);
            try
            {
                await Task.Delay(settings.Duration, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await injecting.ConfigureAwait(false); // a paused worker is woken up first
            }

            var stoppedAt = Stopwatch.GetTimestamp();
            await fleet.StopAsync().ConfigureAwait(false);
            await fleet.DisposeAsync().ConfigureAwait(false);
            await unwatch.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started, stoppedAt);
            var verdict = ChaosChecks.Check(_journal, ChaosSettings.LeaseDuration, stoppedAt, epoch, clockWatched: target.OnThisHost);
            if (Environment.GetEnvironmentVariable(DumpVariable) is { Length: > 0 } dump)
            {
                await _journal.DumpAsync(dump, epoch).ConfigureAwait(false);
            }

            var faults = _injector.Kinds.Append(FaultKinds.Cancel)
                .OrderBy(k => Array.IndexOf(FaultKinds.All, k))
                .ToDictionary(k => k, k => k == FaultKinds.Cancel ? _journal.Cancels.Count : _journal.Faults.Count(f => f.Kind == k), StringComparer.Ordinal);
            var unexpected = await UnexpectedWorkerErrorsAsync(log, error).ConfigureAwait(false);
            var ridden = new Dictionary<string, int>(_journal.Failures, StringComparer.Ordinal);
            if (unexpected > 0)
            {
                ridden["worker-stderr-lines"] = unexpected;
            }

            return new ChaosReport(settings, target.Description, elapsed, fleet.Started, faults, ridden, verdict);
        }
        finally
        {
            await unwatch.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            AppDomain.CurrentDomain.ProcessExit -= KillAll;
        }
    }

    /// <summary>Lines the workers wrote to standard error (they write none unless something broke); the first few go to our standard error.</summary>
    private static async Task<int> UnexpectedWorkerErrorsAsync(string log, TextWriter error)
    {
        if (!File.Exists(log))
        {
            return 0;
        }

        var lines = await File.ReadAllLinesAsync(log).ConfigureAwait(false);
        foreach (var line in lines.Take(20))
        {
            await error.WriteLineAsync(line).ConfigureAwait(false);
        }

        return lines.Length;
    }

    /// <summary>On a server the user named, removes the run's keys or tables (best effort).</summary>
    private async Task RemoveRunDataAsync(ChaosTarget target)
    {
        var prefix = ChaosStores.Prefix(target.Kind, _run);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            switch (target.Kind)
            {
                case BackendKind.Redis:
                {
                    await using var redis = await ConnectionMultiplexer.ConnectAsync(target.Direct).ConfigureAwait(false);
                    foreach (var server in redis.GetServers())
                    {
                        await foreach (var key in server.KeysAsync(pattern: $"*{prefix}*", pageSize: 1_000).WithCancellation(timeout.Token).ConfigureAwait(false))
                        {
                            await redis.GetDatabase().KeyDeleteAsync(key, CommandFlags.FireAndForget).ConfigureAwait(false);
                        }
                    }

                    break;
                }

                case BackendKind.Postgres:
                {
                    await using var dataSource = NpgsqlDataSource.Create(target.Direct);
                    await using var find = dataSource.CreateCommand("SELECT string_agg(quote_ident(table_name), ', ') FROM information_schema.tables WHERE table_name LIKE $1");
                    find.Parameters.AddWithValue(prefix + "%");
                    if (await find.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false) is string tables)
                    {
#pragma warning disable CA2100 // Table names come from the catalogue, quoted by quote_ident.
                        await using var drop = dataSource.CreateCommand($"DROP TABLE IF EXISTS {tables} CASCADE");
#pragma warning restore CA2100
                        await drop.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                    }

                    break;
                }

                case BackendKind.Sqlite:
                {
                    await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={target.Direct}");
                    await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
                    var names = new List<string>();
                    await using (var find = connection.CreateCommand())
                    {
                        find.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE $p";
                        find.Parameters.AddWithValue("$p", prefix + "%");
                        await using var reader = await find.ExecuteReaderAsync(timeout.Token).ConfigureAwait(false);
                        while (await reader.ReadAsync(timeout.Token).ConfigureAwait(false))
                        {
                            names.Add(reader.GetString(0));
                        }
                    }

                    foreach (var name in names)
                    {
                        await using var drop = connection.CreateCommand();
#pragma warning disable CA2100 // Table names come from the catalogue, quoted.
                        drop.CommandText = $"DROP TABLE IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
#pragma warning restore CA2100
                        await drop.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                    }

                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    break;
                }
            }
        }
        catch (Exception e) when (e is RedisException or NpgsqlException or Microsoft.Data.Sqlite.SqliteException or OperationCanceledException or TimeoutException)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"leasing: could not remove the run's data (prefix {prefix}): {e.Message}")).ConfigureAwait(false);
        }
    }
}
