using System.Text.Json;

namespace Leasing;

/// <summary>Options of an <see cref="IdempotentExecutor"/>. Validated when the executor is created (and at start when registered in DI).</summary>
public sealed class IdempotencyOptions
{
    /// <summary>
    /// The total time one call may wait for the key's action to finish when it runs elsewhere (or
    /// in another call in this process), on the local clock; then <see cref="IdempotencyInProgressException"/>.
    /// </summary>
    /// <value>Default 5 s; <see cref="TimeSpan.Zero"/> fails fast; not negative, at most one day.</value>
    public TimeSpan WaitForInProgress { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a stored outcome is replayed.</summary>
    /// <value>Default 24 h; greater than zero and at most 30 days.</value>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The in-progress lease of a claim, renewed every <see cref="LeaseDuration"/>/3 while the action
    /// runs. A crashed owner's key can be claimed again when it runs out.
    /// </summary>
    /// <value>Default 30 s; greater than zero and at most one day.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a duplicate waiting for an execution elsewhere rides through a backend outage (it
    /// keeps re-claiming; within <see cref="WaitForInProgress"/>), and how long the owner keeps retrying
    /// to store its outcome beyond its claim's local deadline. A longer outage surfaces as
    /// <see cref="LeaseStoreUnavailableException"/> (waiting) or <see cref="IdempotencyClaimLostException"/> (owner).
    /// </summary>
    /// <value>Default 2 s; between zero and one day.</value>
    public TimeSpan OutageTolerance { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Says which exceptions of the action are terminal: stored and replayed as
    /// <see cref="IdempotentExecutionFailedException"/>. Any other exception releases the claim at
    /// once (a retry runs the action again) and propagates.
    /// </summary>
    /// <value>Default <see langword="null"/>: every exception is retryable.</value>
    public Func<Exception, bool>? IsTerminal { get; set; }

    /// <summary>
    /// How long this executor replays an outcome it saw stored (ran here or replayed) from memory, without a
    /// round trip, to later calls with the same key and fingerprint: a client retrying a completed call costs no
    /// backend call for that long. What it trades: an outcome evicted from the store by another process (or on the
    /// store directly), or expired there, is still replayed here until then; <see cref="IdempotentExecutor.EvictAsync"/>
    /// forgets it at once in this executor. At most 10,000 outcomes and 16 MiB of payloads are kept, none larger than
    /// 64 KiB. An entry lives for this long (at most <see cref="Retention"/>) from when this executor saw the outcome, so
    /// one read just before its record expired in the store is replayed here up to that long after.
    /// <see cref="TimeSpan.Zero"/> turns it off (every call asks the store).
    /// </summary>
    /// <value>Default 30 s; between zero and one day.</value>
    public TimeSpan ReplayCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The serializer options for results and for fingerprints of inputs (when no JsonTypeInfo is given).</summary>
    /// <value>Default <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
