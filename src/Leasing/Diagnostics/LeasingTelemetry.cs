using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Leasing;

/// <summary>
/// The library's Meter and ActivitySource, both named <c>Leasing</c>, so OpenTelemetry picks
/// them up with <c>AddMeter("Leasing")</c> / <c>AddSource("Leasing")</c>. Instruments are
/// <c>leasing.*</c>, durations in seconds; tags are the pool name and the backend only (never a key).
/// </summary>
public static class LeasingTelemetry
{
    /// <summary>The name of the Meter and of the ActivitySource.</summary>
    public const string Name = "Leasing";

    /// <summary>Tag: the pool name.</summary>
    public const string PoolTag = "leasing.pool";

    /// <summary>Tag: the backend ("memory", "redis", "sql", ...).</summary>
    public const string BackendTag = "leasing.backend";

    internal static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Acquisitions = Meter.CreateCounter<long>("leasing.pool.acquisitions", "{lease}", "Channels acquired from a pool.");

    internal static readonly Counter<long> Waits = Meter.CreateCounter<long>("leasing.pool.waits", "{wait}", "Acquires that found every channel busy and waited.");

    internal static readonly UpDownCounter<long> Waiting = Meter.CreateUpDownCounter<long>("leasing.pool.waiting", "{caller}", "Callers of this process waiting for a channel right now.");

    internal static readonly Counter<long> Exhausted = Meter.CreateCounter<long>("leasing.pool.exhausted", "{acquire}", "Acquires that gave up after AcquireTimeout.");

    internal static readonly Counter<long> Cooldowns = Meter.CreateCounter<long>("leasing.pool.cooldowns", "{release}", "Leases released into a cooldown (uncertain outcomes).");

    internal static readonly Counter<long> RenewFailures = Meter.CreateCounter<long>("leasing.lease.renew_failures", "{renew}", "Renewals that could not reach the backend.");

    internal static readonly Counter<long> LeasesLost = Meter.CreateCounter<long>("leasing.lease.lost", "{lease}", "Leases found lost, or whose local deadline passed unconfirmed.");

    internal static readonly Histogram<double> AcquireWait = Meter.CreateHistogram<double>("leasing.pool.acquire_wait", "s", "Time from the acquire call to a leased channel.");

    internal static readonly Histogram<double> HoldTime = Meter.CreateHistogram<double>("leasing.lease.hold_time", "s", "Time a channel was held, from acquire to release.");

    internal static readonly Counter<long> IdempotentExecutions = Meter.CreateCounter<long>("leasing.idempotency.executions", "{execution}", "Actions run by the idempotent executor.");

    internal static readonly Counter<long> IdempotentReplays = Meter.CreateCounter<long>("leasing.idempotency.replays", "{call}", "Calls answered with a stored or shared outcome.");

    internal static readonly Counter<long> IdempotentWaits = Meter.CreateCounter<long>("leasing.idempotency.waits", "{call}", "Calls that waited for an execution in progress elsewhere.");

    internal static readonly Counter<long> FingerprintMismatches = Meter.CreateCounter<long>("leasing.idempotency.fingerprint_mismatches", "{call}", "Keys reused with other input.");

    private static readonly ConcurrentDictionary<ChannelPool, byte> Pools = new();

    static LeasingTelemetry()
    {
        Meter.CreateObservableGauge("leasing.pool.held", () => Observe(static s => s.Held), "{channel}", "Channels held, from the pool's last status.");
        Meter.CreateObservableGauge("leasing.pool.free", () => Observe(static s => s.Free), "{channel}", "Channels free, from the pool's last status.");
        Meter.CreateObservableGauge("leasing.pool.cooling", () => Observe(static s => s.Cooling), "{channel}", "Channels cooling down, from the pool's last status.");
    }

    internal static void Track(ChannelPool pool) => Pools.TryAdd(pool, 0);

    internal static void Untrack(ChannelPool pool) => Pools.TryRemove(pool, out _);

    internal static string BackendOf(object store)
    {
        var name = store.GetType().Name;
        foreach (var suffix in (string[])["LeaseStore", "IdempotencyStore", "Store"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length)
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        return name.Equals("InMemory", StringComparison.Ordinal) ? "memory" : name.ToLowerInvariant();
    }

    private static IEnumerable<Measurement<int>> Observe(Func<PoolCounts, int> select)
    {
        foreach (var pool in Pools.Keys)
        {
            if (pool.ObserveCounts() is { } counts)
            {
                yield return new Measurement<int>(select(counts), pool.Tags);
            }
        }
    }
}

/// <summary>Channel counts of a pool at its last status read.</summary>
internal sealed record PoolCounts(int Held, int Free, int Cooling);
