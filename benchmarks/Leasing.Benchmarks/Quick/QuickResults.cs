using System.Text.Json.Serialization;

namespace Leasing.Benchmarks.Quick;

/// <summary>The quick run's figures; serialised with exactly the keys benchmarks/README.md lists.</summary>
internal sealed class QuickResults
{
    [JsonPropertyName("redis")]
    public RedisFigures Redis { get; } = new();

    [JsonPropertyName("postgres")]
    public PostgresFigures Postgres { get; } = new();

    [JsonPropertyName("memory")]
    public MemoryFigures Memory { get; } = new();

    /// <summary>Per throughput scenario ("redis: pool, 2,000 channels"): CPU microseconds per pair, medians over the rounds.</summary>
    [JsonPropertyName("cpuMicrosPerPair")]
    public SortedDictionary<string, CpuFigures> CpuMicrosPerPair { get; } = new(StringComparer.Ordinal);
}

internal sealed class CpuFigures
{
    /// <summary>This process (the benchmark client): every thread, GC included.</summary>
    [JsonPropertyName("client")]
    public double Client { get; set; }

    /// <summary>The server (redis-server, or the local postgres processes); null when it could not be read.</summary>
    [JsonPropertyName("server")]
    public double? Server { get; set; }
}

internal sealed class RedisFigures
{
    [JsonPropertyName("commandsPerAcquire")]
    public double? CommandsPerAcquire { get; set; }

    [JsonPropertyName("commandsPerRelease")]
    public double? CommandsPerRelease { get; set; }

    [JsonPropertyName("commandsPerRenew")]
    public double? CommandsPerRenew { get; set; }

    [JsonPropertyName("pairsPerSecond")]
    public double? PairsPerSecond { get; set; }

    [JsonPropertyName("rawEvalshaPairsPerSecond")]
    public double? RawEvalshaPairsPerSecond { get; set; }

    [JsonPropertyName("globalMutexPairsPerSecond")]
    public double? GlobalMutexPairsPerSecond { get; set; }

    [JsonPropertyName("readThenClaimPairsPerSecond")]
    public double? ReadThenClaimPairsPerSecond { get; set; }

    [JsonPropertyName("pairsPerSecond100")]
    public double? PairsPerSecond100 { get; set; }

    [JsonPropertyName("pairsPerSecond100k")]
    public double? PairsPerSecond100k { get; set; }

    [JsonPropertyName("pairsPerSecondFull95")]
    public double? PairsPerSecondFull95 { get; set; }

    [JsonPropertyName("pairsPerSecond16")]
    public double? PairsPerSecond16 { get; set; }

    [JsonPropertyName("peerProbePairsPerSecond")]
    public double? PeerProbePairsPerSecond { get; set; }

    [JsonPropertyName("peerProbePairsPerSecond16")]
    public double? PeerProbePairsPerSecond16 { get; set; }

    /// <summary>16 channels, every use reading and storing the channel's fenced state (4 round trips a use instead of 2).</summary>
    [JsonPropertyName("statePairsPerSecond16")]
    public double? StatePairsPerSecond16 { get; set; }

    [JsonPropertyName("peerSemaphorePairsPerSecond16")]
    public double? PeerSemaphorePairsPerSecond16 { get; set; }

    [JsonPropertyName("serverMicrosAcquire")]
    public double? ServerMicrosAcquire { get; set; }

    [JsonPropertyName("serverMicrosTrivial")]
    public double? ServerMicrosTrivial { get; set; }

    [JsonPropertyName("acquireP50Micros")]
    public double? AcquireP50Micros { get; set; }

    [JsonPropertyName("rawEvalshaP50Micros")]
    public double? RawEvalshaP50Micros { get; set; }
}

internal sealed class PostgresFigures
{
    [JsonPropertyName("pairsPerSecond")]
    public double? PairsPerSecond { get; set; }

    [JsonPropertyName("rawUpsertPairsPerSecond")]
    public double? RawUpsertPairsPerSecond { get; set; }

    [JsonPropertyName("pairsPerSecond16")]
    public double? PairsPerSecond16 { get; set; }

    [JsonPropertyName("peerProbePairsPerSecond")]
    public double? PeerProbePairsPerSecond { get; set; }

    [JsonPropertyName("peerProbePairsPerSecond16")]
    public double? PeerProbePairsPerSecond16 { get; set; }

    /// <summary>16 channels, every use reading and storing the channel's fenced state.</summary>
    [JsonPropertyName("statePairsPerSecond16")]
    public double? StatePairsPerSecond16 { get; set; }

    /// <summary>2,000 channels on UNLOGGED lease tables (SqlLeasingOptions.UnloggedLeaseTables).</summary>
    [JsonPropertyName("unloggedPairsPerSecond")]
    public double? UnloggedPairsPerSecond { get; set; }

    /// <summary>16 channels on UNLOGGED lease tables.</summary>
    [JsonPropertyName("unloggedPairsPerSecond16")]
    public double? UnloggedPairsPerSecond16 { get; set; }
}

internal sealed class MemoryFigures
{
    [JsonPropertyName("pairsPerSecondSingleThread")]
    public double? PairsPerSecondSingleThread { get; set; }

    [JsonPropertyName("allocatedBytesPerPair")]
    public double? AllocatedBytesPerPair { get; set; }
}
