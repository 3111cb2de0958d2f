namespace Leasing;

/// <summary>The state of an idempotency record.</summary>
public enum IdempotencyStatus
{
    /// <summary>An owner has claimed the key and is running the action under a finite lease.</summary>
    InProgress,

    /// <summary>The action succeeded; the result is stored for the retention period.</summary>
    Succeeded,

    /// <summary>The action failed terminally; the failure is stored and replayed.</summary>
    Failed,

    /// <summary>The owner gave the claim up (a retryable failure); the key is claimable again at once.</summary>
    Released,
}

/// <summary>The final outcome stored by <see cref="IIdempotencyStore.CompleteAsync"/>.</summary>
public enum IdempotencyOutcome
{
    /// <summary>The action succeeded; the payload is its serialised result.</summary>
    Succeeded,

    /// <summary>The action failed terminally; the payload describes the failure.</summary>
    Failed,
}

/// <summary>What <see cref="IIdempotencyStore.TryClaimAsync"/> found.</summary>
public enum ClaimOutcome
{
    /// <summary>The caller now owns the key (fresh, released or expired before).</summary>
    Claimed,

    /// <summary>Another owner holds an unexpired claim.</summary>
    InProgress,

    /// <summary>The key has a final outcome; <see cref="IdempotencyClaim.Existing"/> says Succeeded or Failed.</summary>
    Completed,

    /// <summary>The key exists with another fingerprint: the same key was reused for other input.</summary>
    FingerprintMismatch,
}
