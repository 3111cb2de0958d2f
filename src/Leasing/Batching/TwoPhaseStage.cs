namespace Leasing.Batching;

/// <summary>Where an item failed in a <see cref="TwoPhaseProcessor"/> run.</summary>
public enum TwoPhaseStage
{
    /// <summary>Phase 1: preparing the item's patch, outside the lock. The item was not committed.</summary>
    Prepare,

    /// <summary>Phase 2: committing the item under the lock (reported by the commit, or the whole commit failed).</summary>
    Commit,
}
