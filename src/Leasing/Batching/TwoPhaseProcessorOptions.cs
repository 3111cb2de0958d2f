namespace Leasing.Batching;

/// <summary>Options of a <see cref="TwoPhaseProcessor"/>. Validated when the processor is created.</summary>
public sealed class TwoPhaseProcessorOptions
{
    /// <summary>Items per batch: one lock acquisition each.</summary>
    /// <value>Default 100; at least 1.</value>
    public int BatchSize { get; set; } = 100;

    /// <summary>How many items of a batch are prepared at once (phase 1, outside the lock).</summary>
    /// <value>Default 4; at least 1.</value>
    public int MaxPrepareConcurrency { get; set; } = 4;

    /// <summary>How long each batch waits for the lock before <see cref="TimeoutException"/>.</summary>
    /// <value>Default 30 s; <see cref="TimeSpan.Zero"/> tries once; not negative.</value>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
