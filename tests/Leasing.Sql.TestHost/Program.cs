// A worker process for the multi-process tests of Leasing.Sql.Tests, driven over stdin/stdout:
// it sets up, prints "ready", waits for a line "go" on stdin, does its part, prints its result and exits.
//
//   idem sqlite|postgres CONNECTION PREFIX KEY JOURNAL     one IdempotentExecutor call; the action appends "executed PID" to JOURNAL.PID
//   pool postgres CONNECTION PREFIX POOL CYCLES JOURNAL    ChannelPool cycles; appends "channel fencing startTicks endTicks" per hold to JOURNAL.PID
//   bench postgres CONNECTION PREFIX WORKERS SECONDS       prints pool acquire+release pairs/s (2,000 channels) and, in the same
//                                                          run, pairs of raw prepared single-row upserts/s, interleaved rounds
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Leasing;
using Leasing.Sql;
using Microsoft.Data.Sqlite;
using Npgsql;

var mode = args[0];
var dialect = args[1] == "sqlite" ? SqlDialect.Sqlite : SqlDialect.PostgreSql;
DbDataSource source = dialect == SqlDialect.Sqlite
    ? SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = args[2], Pooling = true }.ToString())
    : NpgsqlDataSource.Create(args[2]);
var options = new SqlLeasingOptions { TablePrefix = args[3], CommandTimeout = TimeSpan.FromSeconds(30) };
var pid = Environment.ProcessId;

if (mode == "idem")
{
    var store = new SqlIdempotencyStore(source, dialect, options);
    var executor = new IdempotentExecutor(store, new IdempotencyOptions { LeaseDuration = TimeSpan.FromSeconds(10), WaitForInProgress = TimeSpan.FromSeconds(30) });
    await ReadyAsync();
    var result = await executor.ExecuteAsync(args[4], async ct =>
    {
        // One file per process: appends from several processes to one file can overwrite each other.
        await File.AppendAllTextAsync($"{args[5]}.{pid}", $"executed {pid}\n", ct);
        await Task.Delay(300, ct);
        return $"value-from-{pid}";
    }, fingerprint: "same-input");
    Console.WriteLine($"result {result.Value} replayed={result.Replayed}");
}
else if (mode == "pool")
{
    var store = new SqlLeaseStore(source, dialect, options);
    await using var pool = new ChannelPool(store, new ChannelPoolOptions
    {
        Name = args[4],
        Channels = ["c0", "c1", "c2"],
        LeaseDuration = TimeSpan.FromSeconds(10),
        AcquireTimeout = TimeSpan.FromSeconds(30),
        RetryMinDelay = TimeSpan.FromMilliseconds(1),
        RetryMaxDelay = TimeSpan.FromMilliseconds(10),
    });
    var cycles = int.Parse(args[5], CultureInfo.InvariantCulture);
    var lines = new List<string>(cycles);
    await ReadyAsync();
    for (var i = 0; i < cycles; i++)
    {
        var lease = await pool.AcquireAsync();
        var start = Stopwatch.GetTimestamp();
        await Task.Delay(Random.Shared.Next(0, 3));
        var end = Stopwatch.GetTimestamp();
        if (!await lease.ReleaseAsync())
        {
            Console.WriteLine($"lost {lease.ChannelId} {lease.FencingToken}");
        }

        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{lease.ChannelId} {lease.FencingToken} {start} {end}"));
    }

    await File.AppendAllLinesAsync($"{args[6]}.{pid}", lines);
    Console.WriteLine($"done {cycles}");
}

else if (mode == "bench")
{
    await Bench.RunAsync((NpgsqlDataSource)source, options, int.Parse(args[4], CultureInfo.InvariantCulture), double.Parse(args[5], CultureInfo.InvariantCulture));
}

await source.DisposeAsync();
return 0;

static async Task ReadyAsync()
{
    Console.WriteLine("ready");
    var line = await Console.In.ReadLineAsync();
    if (line != "go")
    {
        throw new InvalidOperationException($"expected 'go', got '{line}'");
    }
}
