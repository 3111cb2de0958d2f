using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Leasing;

/// <summary>
/// The library's Meter and ActivitySource, both named <c>Leasing</c>, so OpenTelemetry picks
/// them up with <c>AddMeter("Leasing")</c> / <c>AddSource("Leasing")</c>. Instruments are
/// <c>leasing.*</c>, durations in seconds; tags are the pool name and the backend only (never a key).
/// Both carry the library's version (<see cref="Version"/>), and the duration histograms advise bucket
/// boundaries from 1 ms to 30 s, which OpenTelemetry's SDK uses unless a view says otherwise.
/// </summary>
public static class LeasingTelemetry
{
    /// <summary>The name of the Meter and of the ActivitySource.</summary>
    public const string Name = "Leasing";

    /// <summary>Tag: the pool name.</summary>
    public const string PoolTag = "leasing.pool";

    /// <summary>Tag: the backend (<see cref="ILeaseStore.BackendName"/>: "memory", "redis", "sqlite", "postgresql", ...).</summary>
    public const string BackendTag = "leasing.backend";

    /// <summary>
    /// The version of the Meter and of the ActivitySource: the Leasing assembly's informational version
    /// without build metadata (the part after <c>+</c>), for example <c>1.2.0</c>.
    /// </summary>
    public static string Version { get; } = ReadVersion();

    // Bucket boundaries for durations, in seconds (the histograms' unit): 1 ms to 30 s, roughly 1-2.5-5 per decade.
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    internal static readonly Counter<long> Acquisitions = Meter.CreateCounter<long>("leasing.pool.acquisitions", "{lease}", "Channels acquired from a pool.");

    internal static readonly Counter<long> Waits = Meter.CreateCounter<long>("leasing.pool.waits", "{wait}", "Acquires that found every channel busy and waited.");

    internal static readonly UpDownCounter<long> Waiting = Meter.CreateUpDownCounter<long>("leasing.pool.waiting", "{caller}", "Callers of this process waiting for a channel right now.");

    internal static readonly Counter<long> Exhausted = Meter.CreateCounter<long>("leasing.pool.exhausted", "{acquire}", "Acquires that gave up after AcquireTimeout.");

    internal static readonly Counter<long> Cooldowns = Meter.CreateCounter<long>("leasing.pool.cooldowns", "{release}", "Leases released into a cooldown (uncertain outcomes).");

    internal static readonly Counter<long> RenewFailures = Meter.CreateCounter<long>("leasing.lease.renew_failures", "{renew}", "Renewals that could not reach the backend.");

    internal static readonly Counter<long> LeasesLost = Meter.CreateCounter<long>("leasing.lease.lost", "{lease}", "Leases found lost, or whose local deadline passed unconfirmed.");

    internal static readonly Histogram<double> AcquireWait = Meter.CreateHistogram(
        "leasing.pool.acquire_wait", "s", "Time from the acquire call to a leased channel.", tags: null, advice: DurationAdvice());

    internal static readonly Histogram<double> HoldTime = Meter.CreateHistogram(
        "leasing.lease.hold_time", "s", "Time a channel was held, from acquire to release.", tags: null, advice: DurationAdvice());

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

    /// <summary>The advised bucket boundaries of a duration histogram (seconds).</summary>
    internal static IReadOnlyList<double> DurationBucketBoundaries => DurationBuckets;

    internal static void Track(ChannelPool pool) => Pools.TryAdd(pool, 0);

    internal static void Untrack(ChannelPool pool) => Pools.TryRemove(pool, out _);

    /// <summary>The default <see cref="ILeaseStore.BackendName"/>: the type name, lower case, without a store suffix.</summary>
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

    private static InstrumentAdvice<double> DurationAdvice() => new() { HistogramBucketBoundaries = DurationBuckets };

    private static string ReadVersion()
    {
        var assembly = typeof(LeasingTelemetry).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            var metadata = informational.IndexOf('+', StringComparison.Ordinal);
            return metadata < 0 ? informational : informational[..metadata];
        }

        return assembly.GetName().Version?.ToString() ?? "0.0.0";
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
