namespace Leasing.Cli.Chaos;

/// <summary>
/// One use of a channel or lock key by a worker, as journalled: the acquire was sent at
/// <see cref="Sent"/> and returned at <see cref="Granted"/>, its handle's local deadline then was
/// <see cref="Deadline"/>; the work (with its fenced write) ended at
/// <see cref="End"/>; the release returned <see cref="Released"/> (null: it failed or never ran) at
/// <see cref="ReleasedAt"/>. Times are <see cref="System.Diagnostics.Stopwatch"/> timestamps, which on
/// one host are one monotonic clock for every process.
/// </summary>
internal sealed class ChaosUse
{
    public required string Key { get; init; }

    public required long Token { get; init; }

    public required int Process { get; init; }

    /// <summary>
    /// When the acquire that granted this use was sent: the caller's call, or earlier when a pool handed the
    /// caller a grant it had claimed for a waiter ahead that gave up (read from <see cref="Deadline"/>).
    /// </summary>
    public required long Sent { get; init; }

    /// <summary>When the caller asked (for the journal; <see cref="Sent"/> is when the acquire behind the grant was sent).</summary>
    public long? Asked { get; init; }

    /// <summary>The handle's local deadline at the grant (<c>TimeLeft</c>): the library promises the key to the holder until then.</summary>
    public required long Deadline { get; init; }

    public required long Granted { get; init; }

    /// <summary>The lease's end on the backend's clock at the grant (µs since the Unix epoch): the backend's clock read at the claim + the lease.</summary>
    public long ExpiresAt { get; init; }

    /// <summary>The lease's end on the backend's clock as the handle knew it when the work ended (moved by the renewals it heard of); null until then.</summary>
    public long? ExpiresAtEnd { get; set; }

    public long? End { get; set; }

    public long? ReleasedAt { get; set; }

    public bool? Released { get; set; }

    /// <summary>When the holder sent its fenced write: from then on it may be releasing.</summary>
    public long? WrittenAt { get; set; }

    /// <summary>The handle's LeaseLost had fired when the work ended.</summary>
    public bool Lost { get; set; }

    /// <summary>The process was killed while this use was open (no end, no release).</summary>
    public long? KilledAt { get; set; }

    /// <summary>Position of this use's begin among the begins the fenced sink saw for the key.</summary>
    public long BeginIndex { get; set; }

    /// <summary>The resource the key belongs to: the pool, or the lock key itself.</summary>
    public string Resource => Key.StartsWith(ChaosKeys.PoolPrefix, StringComparison.Ordinal) ? ChaosKeys.PoolResource : Key;

    public override string ToString() => $"{Key}#{Token} by process {Process}";
}

/// <summary>A fenced write as the sink judged it: accepted or not, and whether another holder of the key had begun since the writer did.</summary>
internal sealed record ChaosWrite(string Key, long Token, int Process, long At, bool Accepted, bool SuccessorBegan);

/// <summary>A payment's action charged (ran to its end) under the claim with <paramref name="Token"/>.</summary>
internal sealed record ChaosCharge(string Key, long Token, int Process, long At);

/// <summary>How one <c>ExecuteAsync</c> call of a payment ended; <paramref name="Token"/> is the claim it executed under, 0 when it did not execute.</summary>
internal sealed record ChaosExecution(string Key, long Token, int Process, string Outcome, long At);

/// <summary>An acquire (or payment call) whose token the worker cancelled at a random moment, and the call gave up.</summary>
internal sealed record ChaosCancel(string Resource, int Process, long At);

/// <summary>
/// A fault the coordinator injected: its kind, when it started and ended, the process it hit (kill,
/// pause) with the keys that process held, and whether it lost the backend's data.
/// </summary>
/// <remarks>
/// <paramref name="Outage"/>: the backend could not answer meanwhile (a stall, delayed replies, a
/// drop, a restart; on SQLite also a pause, since the paused process may hold the file's write lock).
/// </remarks>
internal sealed record ChaosFault(string Kind, long Start, long End, int? Process, IReadOnlyList<string> Keys, bool LosesData = false, bool Outage = false);

/// <summary>
/// A step of this host's wall clock against its monotonic clock (see <see cref="ClockWatch"/>) by <paramref name="Size"/>
/// (Stopwatch ticks; positive: the wall clock jumped forward), made after the sample at <paramref name="From"/> and
/// by the one at <paramref name="At"/> (Stopwatch timestamps).
/// </summary>
internal sealed record ChaosClockStep(long From, long At, long Size)
{
    /// <summary>The step in milliseconds (positive: forward).</summary>
    public double Milliseconds => Size * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
}

/// <summary>Fault kinds, as printed and written to JSON.</summary>
internal static class FaultKinds
{
    public const string Kill = "kill";
    public const string Pause = "pause";
    public const string Cancel = "cancel";
    public const string Stall = "stall";
    public const string Drop = "drop";
    public const string Delay = "delay";
    public const string Restart = "restart";

    public static readonly string[] All = [Kill, Pause, Cancel, Stall, Drop, Delay, Restart];
}

/// <summary>How the workers name what they use, so the coordinator can group it.</summary>
internal static class ChaosKeys
{
    public const string PoolPrefix = "pool/";
    public const string LockPrefix = "lock/";
    public const string PoolResource = "pool";

    public static string Channel(int i) => $"ch-{i:D2}";

    public static string Lock(int i) => $"lock-{i}";
}

/// <summary>A holder's fenced-state write of its resource's next sequence number (<paramref name="Sequence"/> + 1): stored by the backend, or refused because the lease was no longer live.</summary>
internal sealed record ChaosSequence(string Key, long Token, int Process, long Sequence, long ReadAt, long StoredAt, bool Stored);
