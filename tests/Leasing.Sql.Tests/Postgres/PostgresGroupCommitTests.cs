using FluentAssertions;
using Leasing.Sql.Tests.Support;
using Leasing.Testing;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// Group commit of a pool's LRU acquires and releases in one process on PostgreSQL: while one statement is
/// in flight, later callers queue and go out together in one statement. Another connection's lock on the
/// members table holds the first statement, so the queue forms for certain; a counting data source
/// counts the statements.
/// </summary>
public sealed class PostgresGroupCommitTests(PostgresTables tables) : IClassFixture<PostgresTables>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task QueuedAcquires_OneStatementForAll_DistinctMembersInLruAndArrivalOrder()
    {
        var (store, counting, pool) = await PoolAsync(100);

        // A least-recently-used order unlike the names': each member taken by name in a shuffled order, then freed.
        var order = Enumerable.Range(0, 100).Select(i => $"m{i:00}").OrderBy(_ => Random.Shared.Next()).ToArray();
        foreach (var member in order)
        {
            (await store.ReleaseAsync((await store.TryAcquirePoolMemberAsync(pool, member, Ttl))!)).Should().BeTrue();
        }

        var before = counting.Commands;
        var calls = await WhileLockedAsync<Lease?>(() => [.. Enumerable.Range(0, 21).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask())]);

        var leases = (await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30))).Select(l => l!).ToArray();
        leases.Select(l => l.Key).Should().Equal(order.Take(21), "the least recently acquired members, to the callers in arrival order");
        leases.Select(l => l.Token).Should().OnlyHaveUniqueItems();
        (counting.Commands - before).Should().Be(2, "the first call, then one statement for the 20 callers queued behind it");
    }

    [Fact]
    public async Task QueuedReleases_OneStatement_EachAnsweredForItsOwnLease()
    {
        var (store, counting, pool) = await PoolAsync(10);
        var leases = new List<Lease>();
        for (var i = 0; i < 10; i++)
        {
            leases.Add((await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl))!);
        }

        var before = counting.Commands;

        // Queued behind the first: the other nine, the fifth once more, and the third with a stale token.
        var calls = await WhileLockedAsync<bool>(() =>
        [
            .. leases.Select(l => store.ReleaseAsync(l).AsTask()),
            store.ReleaseAsync(leases[4]).AsTask(),
            store.ReleaseAsync(leases[2] with { Token = "0123456789abcdef0123456789abcdef" }).AsTask(),
        ]);

        var released = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        released.Should().Equal([.. Enumerable.Repeat(true, 10), false, false], "each release is a compare-and-set on its own token; a lease freed once in the batch is not freed twice");
        (counting.Commands - before).Should().Be(2);
        (await store.InspectPoolAsync(pool)).Should().OnlyContain(s => s.Status == LeaseStatus.Free);
    }

    [Fact]
    public async Task QueuedAcquires_FewerFreeThanCallers_TheRestGetNone_AndAFullBatchGoesOutAtOnce()
    {
        var (store, counting, pool) = await PoolAsync(30);
        var before = counting.Commands;
        var calls = await WhileLockedAsync<Lease?>(
            () => [.. Enumerable.Range(0, 1 + 64).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask())],
            () => Eventually.TrueAsync(
                () => WaitingOnTheLock(tables.DataSource, tables.Prefix) == 2,
                "the first statement and, as soon as 64 callers filled a batch behind it, theirs wait for the lock",
                TimeSpan.FromSeconds(10)));

        var leases = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        (counting.Commands - before).Should().Be(2);
        leases.Count(l => l is not null).Should().Be(30, "every member once");
        leases.Where(l => l is not null).Select(l => l!.Key).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task QueuedAcquires_OutdatedMembersVersion_EveryCallerIsTold()
    {
        var (store, _, pool) = await PoolAsync(5, version: 3);
        var calls = await WhileLockedAsync<Lease?>(() => [.. Enumerable.Range(0, 5).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 4).AsTask())]);

        foreach (var call in calls)
        {
            (await call.Awaiting(c => c).Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion.Should().Be(3);
        }

        (await store.InspectPoolAsync(pool)).Should().OnlyContain(s => s.Status == LeaseStatus.Free, "nothing is claimed under an outdated list");
    }

    [Fact]
    public async Task GroupedReleasesBesideMemberListWrites_NeverDeadlock()
    {
        // A grouped release locks its rows, and a member-list write locks all of the pool's rows: both in member
        // order, so neither waits on the other in a cycle. Here 24 releases a round arrive in shuffled order (the
        // first goes alone, the rest queue behind it into grouped statements) while another store (another
        // process) rewrites the list; a deadlock fails one of them (PostgreSQL error 40P01, found after its
        // deadlock_timeout of 1 s) as LeaseStoreUnavailableException.
        const int Rounds = 200;
        var (store, counting, pool) = await PoolAsync(24);
        var members = Enumerable.Range(0, 24).Select(i => $"m{i:00}").ToArray();
        var writer = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        long releaseStatements = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            var leases = new List<Lease>();
            for (var i = 0; i < 24; i++)
            {
                leases.Add((await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl))!);
            }

            var before = counting.Commands;
            using var start = new SemaphoreSlim(0);
            var releases = leases.OrderBy(_ => Random.Shared.Next()).Select(async lease =>
            {
                await start.WaitAsync();
                return await store.ReleaseAsync(lease);
            }).ToArray();
            var version = round;
            var write = Task.Run(async () =>
            {
                await start.WaitAsync();
                await writer.SetPoolMembersAsync(pool, members, version);
            });
            start.Release(releases.Length + 1);

            (await Task.WhenAll(releases).WaitAsync(TimeSpan.FromSeconds(30))).Should().OnlyContain(r => r, $"every release is answered for its own lease (round {round})");
            await write.WaitAsync(TimeSpan.FromSeconds(30));
            releaseStatements += counting.Commands - before;
        }

        releaseStatements.Should().BeLessThan(Rounds * 24 / 2, "the releases went out grouped, mostly several to a statement");
    }

    private async Task<(SqlLeaseStore Store, CountingDataSource Counting, string Pool)> PoolAsync(int members, long version = 0)
    {
        var counting = new CountingDataSource(tables.DataSource);
        var store = new SqlLeaseStore(counting, SqlDialect.PostgreSql, tables.Options);
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, [.. Enumerable.Range(0, members).Select(i => $"m{i:00}")], version);
        return (store, counting, pool);
    }

    // Starts the calls while another connection holds an exclusive lock on the members table (the first statement
    // waits for it; the rest queue in this process), runs the check while still locked, then lets go.
    private async Task<Task<T>[]> WhileLockedAsync<T>(Func<Task<T>[]> start, Func<Task>? whileLocked = null)
    {
        await using var connection = await tables.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {tables.Prefix}pool_members IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        Task<T>[] calls;
        try
        {
            calls = start();
            await Eventually.TrueAsync(() => WaitingOnTheLock(tables.DataSource, tables.Prefix) >= 1, "the first statement waits for the lock", TimeSpan.FromSeconds(10));
            if (whileLocked is not null)
            {
                await whileLocked();
            }
        }
        finally
        {
            await transaction.CommitAsync();
        }

        return calls;
    }

    private static int WaitingOnTheLock(NpgsqlDataSource source, string prefix)
    {
        using var command = source.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND strpos(query, $1) > 0");
        command.Parameters.AddWithValue(prefix);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
