using System.Globalization;
using System.Text;

namespace Leasing.Benchmarks.Quick;

/// <summary>The quick run's markdown table: each figure, what it is compared with, the ratio, and the target (docs/architecture.md#performance-targets, or issue 11 for the peer).</summary>
internal static class QuickReport
{
    public static string Markdown(QuickResults r, IReadOnlyDictionary<string, string> notes)
    {
        var redis = r.Redis;
        var table = new StringBuilder();
        table.AppendLine("| measure | value | compared with | ratio | target (docs/architecture.md#performance-targets)  | met |");
        table.AppendLine("| --- | --- | --- | --- | --- | --- |");

        Row(table, "Redis pool acquire+release, 64 workers, 2,000 channels", Rate(redis.PairsPerSecond),
            $"raw 2× EVALSHA: {Rate(redis.RawEvalshaPairsPerSecond)}", Div(redis.PairsPerSecond, redis.RawEvalshaPairsPerSecond), ">= 0.60", AtLeast(0.60));
        Row(table, "… against the global-mutex pool", Rate(redis.PairsPerSecond),
            $"global mutex: {Rate(redis.GlobalMutexPairsPerSecond)}", Div(redis.PairsPerSecond, redis.GlobalMutexPairsPerSecond), ">= 10", AtLeast(10));
        Row(table, "… against the read-all-then-claim pool", Rate(redis.PairsPerSecond),
            $"read-then-claim: {Rate(redis.ReadThenClaimPairsPerSecond)}", Div(redis.PairsPerSecond, redis.ReadThenClaimPairsPerSecond), ">= 20", AtLeast(20));
        Row(table, "… against the peer ring probe (DistributedLock.Redis, one lock per channel)", Rate(redis.PairsPerSecond),
            $"peer ring probe: {Rate(redis.PeerProbePairsPerSecond)}", Div(redis.PairsPerSecond, redis.PeerProbePairsPerSecond), ">= 1.0 (issue 11)", AtLeast(1.0));
        Row(table, "Redis pool, 64 workers, 16 channels, against the peer ring probe", Rate(redis.PairsPerSecond16),
            $"peer ring probe: {Rate(redis.PeerProbePairsPerSecond16)}", Div(redis.PairsPerSecond16, redis.PeerProbePairsPerSecond16), ">= 1.5 (issue 11)", AtLeast(1.5));
        Row(table, "… against the peer semaphore (RedisDistributedSemaphore, 16 slots)", Rate(redis.PairsPerSecond16),
            $"peer semaphore: {Rate(redis.PeerSemaphorePairsPerSecond16)}", Div(redis.PairsPerSecond16, redis.PeerSemaphorePairsPerSecond16), ">= 1.0 (issue 11)", AtLeast(1.0));
        Row(table, "(diagnostic) Redis pool, 16 channels, fenced state read and stored per use", Rate(redis.StatePairsPerSecond16),
            $"without state: {Rate(redis.PairsPerSecond16)}", Div(redis.StatePairsPerSecond16, redis.PairsPerSecond16), "", static _ => "", noTarget: true);
        Row(table, "Redis pool at 100,000 channels (cost ratio to 100 channels)", Rate(redis.PairsPerSecond100k),
            $"100 channels: {Rate(redis.PairsPerSecond100)}", Div(redis.PairsPerSecond100, redis.PairsPerSecond100k), "<= 1.25", AtMost(1.25));
        if (notes.TryGetValue("redis-store-alone", out var storeAlone))
        {
            Row(table, "(diagnostic) Redis store LRU acquire+release without ChannelPool, 64 workers", storeAlone, "", null, "", static _ => "", showRatio: false, noTarget: true);
        }

        Row(table, "Redis pool, 1,900 of 2,000 held for 1 h (cost ratio to idle 2,000)", Rate(redis.PairsPerSecondFull95),
            $"2,000 channels: {Rate(redis.PairsPerSecond)}", Div(redis.PairsPerSecond, redis.PairsPerSecondFull95), "<= 1.5", AtMost(1.5));
        Row(table, "Redis sequential acquire p50", Micros(redis.AcquireP50Micros),
            $"raw EVALSHA p50: {Micros(redis.RawEvalshaP50Micros)}", Div(redis.AcquireP50Micros, redis.RawEvalshaP50Micros), "<= 1.5", AtMost(1.5));
        Row(table, "Redis top-level commands per acquire", Count(redis.CommandsPerAcquire, notes, "acquire"), "", redis.CommandsPerAcquire, "= 1", Exactly(1));
        Row(table, "Redis top-level commands per release", Count(redis.CommandsPerRelease, notes, "release"), "", redis.CommandsPerRelease, "= 1", Exactly(1));
        Row(table, "Redis top-level commands per renew", Count(redis.CommandsPerRenew, notes, "renew"), "", redis.CommandsPerRenew, "= 1", Exactly(1));
        if (notes.TryGetValue("redis-server-micros", out var serverMicros))
        {
            Row(table, "(diagnostic) Redis server time per call (INFO commandstats usec)", serverMicros, "", null, "", static _ => "", showRatio: false, noTarget: true);
        }

        Row(table, "Redis acquire script server time (cost ratio to the trivial EVALSHA)", Micros1(redis.ServerMicrosAcquire),
            $"trivial EVALSHA: {Micros1(redis.ServerMicrosTrivial)}", Div(redis.ServerMicrosAcquire, redis.ServerMicrosTrivial), "<= 2 (issue 11)", AtMost(2));

        Row(table, "PostgreSQL pool acquire+release, 16 workers, 2,000 channels", Rate(r.Postgres.PairsPerSecond),
            $"raw 2× prepared upsert: {Rate(r.Postgres.RawUpsertPairsPerSecond)}", Div(r.Postgres.PairsPerSecond, r.Postgres.RawUpsertPairsPerSecond), ">= 0.50", AtLeast(0.50));
        Row(table, "… against the peer ring probe (DistributedLock.Postgres, advisory locks)", Rate(r.Postgres.PairsPerSecond),
            $"peer ring probe: {Rate(r.Postgres.PeerProbePairsPerSecond)}", Div(r.Postgres.PairsPerSecond, r.Postgres.PeerProbePairsPerSecond), ">= 0.75 (issue 11)", AtLeast(0.75));
        Row(table, "PostgreSQL pool, 16 workers, 16 channels, against the peer ring probe", Rate(r.Postgres.PairsPerSecond16),
            $"peer ring probe: {Rate(r.Postgres.PeerProbePairsPerSecond16)}", Div(r.Postgres.PairsPerSecond16, r.Postgres.PeerProbePairsPerSecond16), ">= 1.0 (issue 11)", AtLeast(1.0));
        Row(table, "(diagnostic) PostgreSQL pool on UNLOGGED lease tables (opt-in, weaker durability), 2,000 channels, against the peer ring probe", Rate(r.Postgres.UnloggedPairsPerSecond),
            $"peer ring probe: {Rate(r.Postgres.PeerProbePairsPerSecond)}", Div(r.Postgres.UnloggedPairsPerSecond, r.Postgres.PeerProbePairsPerSecond), "", static _ => "", noTarget: true);
        Row(table, "(diagnostic) PostgreSQL pool on UNLOGGED lease tables, 16 channels, against the peer ring probe", Rate(r.Postgres.UnloggedPairsPerSecond16),
            $"peer ring probe: {Rate(r.Postgres.PeerProbePairsPerSecond16)}", Div(r.Postgres.UnloggedPairsPerSecond16, r.Postgres.PeerProbePairsPerSecond16), "", static _ => "", noTarget: true);
        Row(table, "(diagnostic) PostgreSQL pool, 16 channels, fenced state read and stored per use", Rate(r.Postgres.StatePairsPerSecond16),
            $"without state: {Rate(r.Postgres.PairsPerSecond16)}", Div(r.Postgres.StatePairsPerSecond16, r.Postgres.PairsPerSecond16), "", static _ => "", noTarget: true);
        if (notes.TryGetValue("duplicates", out var duplicates))
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| IdempotentExecutor: 50 parallel duplicates in one process (worst of 20 keys) | {duplicates} |  |  | 1 execution, 1 claim | {notes["duplicates-met"]} |");
            table.AppendLine(CultureInfo.InvariantCulture, $"| IdempotentExecutor: one call from 8 processes at once (Redis) | {notes["processes"]} |  |  | 1 execution | {notes["processes-met"]} |");
        }

        Row(table, "In-memory pool acquire+release, one thread", Rate(r.Memory.PairsPerSecondSingleThread),
            "", r.Memory.PairsPerSecondSingleThread, ">= 1,000,000/s", AtLeast(1_000_000), showRatio: false);
        Row(table, "In-memory allocated bytes per pair", Bytes(r.Memory.AllocatedBytesPerPair),
            "", r.Memory.AllocatedBytesPerPair, "<= 4 allocations", static _ => "bytes only (see README)", showRatio: false);
        return table.ToString();
    }

    private static void Row(StringBuilder table, string measure, string value, string against, double? ratio, string target, Func<double, string> met, bool showRatio = true, bool noTarget = false)
    {
        var ratioText = showRatio && ratio is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "";
        var metText = noTarget ? "" : ratio is { } y ? met(y) : "not measured";
        table.AppendLine(CultureInfo.InvariantCulture, $"| {measure} | {value} | {against} | {ratioText} | {target} | {metText} |");
    }

    private static Func<double, string> AtLeast(double limit) => x => x >= limit ? "yes" : "**no**";

    private static Func<double, string> AtMost(double limit) => x => x <= limit ? "yes" : "**no**";

    private static Func<double, string> Exactly(double value) => x => Math.Abs(x - value) < 0.005 ? "yes" : "**no**";

    private static double? Div(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;

    private static string Rate(double? value) => value is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) + "/s" : "n/a";

    private static string Micros(double? value) => value is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) + " µs" : "n/a";

    private static string Micros1(double? value) => value is { } x ? x.ToString("0.0", CultureInfo.InvariantCulture) + " µs" : "n/a";

    private static string Bytes(double? value) => value is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) + " B" : "n/a";

    private static string Count(double? value, IReadOnlyDictionary<string, string> notes, string operation) =>
        value is { } x
            ? x.ToString("0.##", CultureInfo.InvariantCulture) + (notes.TryGetValue(operation, out var note) ? $" ({note})" : "")
            : "n/a";
}
