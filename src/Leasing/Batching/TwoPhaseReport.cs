namespace Leasing.Batching;

/// <summary>What a <see cref="TwoPhaseProcessor"/> run did.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
public sealed class TwoPhaseReport<TItem>
{
    internal TwoPhaseReport(int batches, int locksTaken, int committed, IReadOnlyList<TwoPhaseItemFailure<TItem>> failures, TimeSpan lockHeld)
    {
        Batches = batches;
        LocksTaken = locksTaken;
        Committed = committed;
        Failures = failures;
        LockHeld = lockHeld;
    }

    /// <summary>How many batches the items made.</summary>
    public int Batches { get; }

    /// <summary>How many times the lock was taken: one per batch with something to commit, never one per item.</summary>
    public int LocksTaken { get; }

    /// <summary>How many items were committed without a reported failure.</summary>
    public int Committed { get; }

    /// <summary>The items that failed, with the stage and the error.</summary>
    public IReadOnlyList<TwoPhaseItemFailure<TItem>> Failures { get; }

    /// <summary>The total time the lock was held (phase 2 only; the preparation runs outside it).</summary>
    public TimeSpan LockHeld { get; }
}
