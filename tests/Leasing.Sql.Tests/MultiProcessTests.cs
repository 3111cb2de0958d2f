using System.Globalization;
using FluentAssertions;
using Leasing.Sql.Tests.Postgres;
using Leasing.Sql.Tests.Sqlite;
using Leasing.Sql.Tests.Support;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Xunit;

namespace Leasing.Sql.Tests;

/// <summary>Real OS processes over one SQLite file or one PostgreSQL database.</summary>
public sealed class MultiProcessTests(PostgresTables tables) : IClassFixture<PostgresTables>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Sqlite_EightProcessesRaceOneIdempotencyKey_ExactlyOneExecution()
    {
        await using var database = new SqliteDatabase();
        await new SqlIdempotencyStore(database.DataSource, SqlDialect.Sqlite, new SqlLeasingOptions { TablePrefix = "race_" }).EnsureSchemaAsync();

        await RaceOneKeyAsync("sqlite", database.Path, "race_");
    }

    [Fact]
    public async Task Postgres_EightProcessesRaceOneIdempotencyKey_ExactlyOneExecution()
    {
        await RaceOneKeyAsync("postgres", await PostgresServer.GetConnectionStringAsync(), tables.Prefix);
    }

    [Fact]
    public async Task Postgres_FourProcessesCyclingAPool_NeverOverlapOnAChannel()
    {
        const int Processes = 4;
        const int Cycles = 40;
        var pool = Unique.Name("pool");
        var journal = Path.Combine(Path.GetTempPath(), $"leasing-pool-journal-{Guid.NewGuid():N}.txt");
        try
        {
            var connection = await PostgresServer.GetConnectionStringAsync();
            var outputs = await WorkerProcesses.RunAsync(
                Enumerable.Range(0, Processes).Select(_ => new[] { "pool", "postgres", connection, tables.Prefix, pool, Cycles.ToString(CultureInfo.InvariantCulture), journal }).ToArray(),
                Limit);

            outputs.Should().AllSatisfy(o => o.Should().Be($"done {Cycles}", "no process lost a lease it held"));
            var holds = Journal.ReadAll(journal).Select(line => line.Split(' ')).Select(p => (
                Channel: p[0],
                Fencing: long.Parse(p[1], CultureInfo.InvariantCulture),
                Start: long.Parse(p[2], CultureInfo.InvariantCulture),
                End: long.Parse(p[3], CultureInfo.InvariantCulture))).ToList();
            holds.Should().HaveCount(Processes * Cycles);
            foreach (var channel in holds.GroupBy(h => h.Channel))
            {
                // The monotonic clock is shared by the processes of one host.
                var ordered = channel.OrderBy(h => h.Start).ToList();
                for (var i = 1; i < ordered.Count; i++)
                {
                    ordered[i].Start.Should().BeGreaterThanOrEqualTo(ordered[i - 1].End, $"holds of {channel.Key} never overlap (fencing {ordered[i - 1].Fencing} then {ordered[i].Fencing})");
                    ordered[i].Fencing.Should().BeGreaterThan(ordered[i - 1].Fencing, $"a later holder of {channel.Key} has a higher fencing token");
                }
            }

            holds.Select(h => h.Channel).Distinct().Should().HaveCount(3, "LRU rotation uses every channel");
        }
        finally
        {
            Journal.DeleteAll(journal);
        }
    }

    private static async Task RaceOneKeyAsync(string dialect, string connection, string prefix)
    {
        const int Processes = 8;
        var key = Unique.Name();
        var journal = Path.Combine(Path.GetTempPath(), $"leasing-idem-journal-{Guid.NewGuid():N}.txt");
        try
        {
            var outputs = await WorkerProcesses.RunAsync(
                Enumerable.Range(0, Processes).Select(_ => new[] { "idem", dialect, connection, prefix, key, journal }).ToArray(),
                Limit);

            Journal.ReadAll(journal).Should().ContainSingle("exactly one of {0} processes executes the action", Processes);
            outputs.Should().AllSatisfy(o => o.Should().StartWith("result value-from-"));
            outputs.Select(o => o.Split(' ')[1]).Distinct().Should().ContainSingle("every process gets the one recorded result");
            outputs.Count(o => o.EndsWith("replayed=False", StringComparison.Ordinal)).Should().Be(1);
        }
        finally
        {
            Journal.DeleteAll(journal);
        }
    }
}
