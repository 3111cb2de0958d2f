using Leasing.Cli.Backends;

namespace Leasing.Cli.Chaos;

/// <summary>
/// The shape of a chaos run. The numbers are chosen so that contention is real (many more workers
/// than channels), faults resolve within the run (short leases) and every fault kind comes back
/// several times a minute.
/// </summary>
internal sealed record ChaosSettings(BackendKind Backend, int Processes, TimeSpan Duration)
{
    public const int DefaultProcesses = 4;
    public const int DefaultSeconds = 60;

    /// <summary>Lease of channels, locks and payment claims: faults resolve within a run.</summary>
    public static TimeSpan LeaseDuration => TimeSpan.FromSeconds(2);

    /// <summary>How long one command may take before the client gives up (the minimum the SQL stores accept).</summary>
    public static TimeSpan CommandTimeout => TimeSpan.FromSeconds(1);

    /// <summary>How long a worker waits for a channel or a lock before it gives up and asks again.</summary>
    public static TimeSpan AcquireTimeout => TimeSpan.FromSeconds(5);

    /// <summary>
    /// Channels in the pool: fewer than the pool tasks, so workers wait for each other. 16 on Redis
    /// (32 tasks with 4 processes: the relayer case); 4 on the SQL backends, which cycle a few hundred
    /// grants a second at most: a channel whose grant reply was lost stays held for a lease and then
    /// waits its LRU turn, and with 16 channels that turn alone can outlast the stranded limit.
    /// </summary>
    /// <param name="backend">The backend of the run.</param>
    /// <returns>The number of channels.</returns>
    public static int ChannelsFor(BackendKind backend) => backend == BackendKind.Redis ? 16 : 4;

    /// <summary>Keys of the <see cref="DistributedLock"/> work, shared by every process.</summary>
    public static int LockKeys => 2;

    /// <summary>Payment keys in flight at once (per window), shared by every process.</summary>
    public static int PaymentKeys => 4;

    /// <summary>How long one set of payment keys is in use before the workers move on to fresh keys.</summary>
    public static TimeSpan PaymentWindow => TimeSpan.FromMilliseconds(400);

    /// <summary>Tasks per worker process cycling the channel pool.</summary>
    public static int PoolTasks => 8;

    /// <summary>Tasks per worker process taking locks.</summary>
    public static int LockTasks => 2;

    /// <summary>Tasks per worker process sending payments.</summary>
    public static int PaymentTasks => 2;

    /// <summary>Share of acquires (and payment calls) whose token is cancelled after a short random delay.</summary>
    public static double CancelRate => 0.03;

    /// <summary>
    /// An idle stretch of a channel or lock key that no known holder's lease explains, away from any
    /// fault (see <see cref="ChaosChecks"/>), longer than this counts as stranded: workers are always waiting.
    /// </summary>
    public static TimeSpan StrandedAfter => LeaseDuration / 2;

    /// <summary>An idle stretch longer than LeaseDuration + this while the backend answered counts as stranded, faults or not.</summary>
    public static TimeSpan StrandedMargin => TimeSpan.FromSeconds(1);

    /// <summary>After a fault ends, how long reconnecting and retry back-off may still delay grants.</summary>
    public static TimeSpan Settle => TimeSpan.FromSeconds(1);

    public bool HasProxy => Backend is BackendKind.Redis or BackendKind.Postgres;
}
