using System.Diagnostics;
using System.Globalization;
using Leasing;
using Leasing.Sql;
using Npgsql;

/// <summary>Closed-loop throughput on PostgreSQL: the pool against two raw prepared upserts, same workers, interleaved rounds.</summary>
internal static class Bench
{
    public static async Task RunAsync(NpgsqlDataSource source, SqlLeasingOptions options, int workers, double seconds)
    {
        var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, options);
        await store.EnsureSchemaAsync();
        var pool = "bench-" + Guid.NewGuid().ToString("N");
        await store.SetPoolMembersAsync(pool, Enumerable.Range(0, 2000).Select(i => $"ch-{i}").ToArray());
        var raw = options.TablePrefix + "raw";
        await using (var create = source.CreateCommand($"CREATE TABLE IF NOT EXISTS {raw} (k text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        const string Upsert = "INSERT INTO {0} (k, owner, expires_at) VALUES ($1, $2, clock_timestamp() + interval '30 seconds') ON CONFLICT (k) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at";
        var upsert = string.Format(CultureInfo.InvariantCulture, Upsert, raw);
        async Task UpsertAsync(string key, string owner)
        {
            await using var connection = await source.OpenConnectionAsync();
            await using var command = new NpgsqlCommand(upsert, connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
            await command.PrepareAsync();
            await command.ExecuteNonQueryAsync();
        }

        var ttl = TimeSpan.FromSeconds(30);
        Func<int, Task> poolPair = async _ =>
        {
            var lease = await store.TryAcquireLeastRecentlyUsedAsync(pool, ttl) ?? throw new InvalidOperationException("pool exhausted");
            await store.ReleaseAsync(lease);
        };
        Func<int, Task> rawPair = async worker =>
        {
            var key = $"ch-{worker}";
            await UpsertAsync(key, "owner");
            await UpsertAsync(key, string.Empty);
        };

        var poolRates = new List<double>();
        var rawRates = new List<double>();
        await MeasureAsync(poolPair, workers, TimeSpan.FromSeconds(1)); // warm-up
        await MeasureAsync(rawPair, workers, TimeSpan.FromSeconds(1));
        for (var round = 0; round < 3; round++)
        {
            rawRates.Add(await MeasureAsync(rawPair, workers, TimeSpan.FromSeconds(seconds)));
            poolRates.Add(await MeasureAsync(poolPair, workers, TimeSpan.FromSeconds(seconds)));
        }

        await using (var drop = source.CreateCommand($"DROP TABLE IF EXISTS {raw}"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        double Median(List<double> rates) => rates.Order().ElementAt(rates.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"workers {workers}: pool acquire+release {Median(poolRates):F0} pairs/s; raw 2x prepared upsert {Median(rawRates):F0} pairs/s; ratio {Median(poolRates) / Median(rawRates):F2} (rounds pool {string.Join('/', poolRates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))}, raw {string.Join('/', rawRates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))})"));
    }

    private static async Task<double> MeasureAsync(Func<int, Task> pair, int workers, TimeSpan duration)
    {
        var count = 0L;
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                await pair(worker);
                Interlocked.Increment(ref count);
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        return count / clock.Elapsed.TotalSeconds;
    }
}
