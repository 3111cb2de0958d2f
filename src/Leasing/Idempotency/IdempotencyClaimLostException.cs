namespace Leasing;

/// <summary>
/// The executor lost its claim on the key while the action ran (its lease expired and another
/// instance claimed the key, or an operator evicted it), and no outcome is stored for it to replay.
/// The action may have taken effect; the key's current owner decides the recorded outcome.
/// </summary>
public sealed class IdempotencyClaimLostException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public IdempotencyClaimLostException()
        : this("The idempotency claim was lost.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public IdempotencyClaimLostException(string message)
        : base(message)
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause (the action's exception, when it failed after the loss).</param>
    public IdempotencyClaimLostException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    private IdempotencyClaimLostException(string message, Exception? innerException, string key)
        : base(message, innerException)
    {
        Key = key;
    }

    /// <summary>The idempotency key.</summary>
    public string Key { get; }

    internal static IdempotencyClaimLostException ForKey(string key, Exception? innerException) =>
        new($"The claim on idempotency key '{key}' was lost while its action ran, and no outcome is stored to replay.", innerException, key);
}
