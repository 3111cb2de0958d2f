namespace Leasing;

/// <summary>
/// The key's action was still running elsewhere (or in this process) when the call's
/// <see cref="IdempotencyOptions.WaitForInProgress"/> budget ran out. Retry after <see cref="RetryAfter"/>:
/// the call then replays the outcome, or runs the action if its owner died.
/// </summary>
public sealed class IdempotencyInProgressException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public IdempotencyInProgressException()
        : this("The idempotent action is still in progress.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public IdempotencyInProgressException(string message)
        : base(message)
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public IdempotencyInProgressException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception for a key.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="retryAfter">When a retry is worth making.</param>
    public IdempotencyInProgressException(string key, TimeSpan retryAfter)
        : base($"The action for idempotency key '{key}' is still in progress; retry after {retryAfter.TotalMilliseconds:0} ms.")
    {
        Key = key;
        RetryAfter = retryAfter;
    }

    /// <summary>The idempotency key.</summary>
    public string Key { get; }

    /// <summary>
    /// The time left on the owner's lease (at least 100 ms): by then the outcome is stored, or the
    /// key can be claimed because the owner died. Suitable for an HTTP Retry-After header.
    /// </summary>
    public TimeSpan RetryAfter { get; }
}
