namespace Leasing;

/// <summary>
/// An idempotency key was reused with other input: the stored record's fingerprint differs from the
/// call's. Nothing ran and nothing was replayed.
/// </summary>
public sealed class IdempotencyKeyReuseException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public IdempotencyKeyReuseException()
        : this("The idempotency key was already used with other input.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public IdempotencyKeyReuseException(string message)
        : base(message)
    {
        Key = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public IdempotencyKeyReuseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    private IdempotencyKeyReuseException(string message, Exception? innerException, string key)
        : base(message, innerException)
    {
        Key = key;
    }

    /// <summary>The idempotency key.</summary>
    public string Key { get; }

    internal static IdempotencyKeyReuseException ForKey(string key) =>
        new($"The idempotency key '{key}' was already used with other input (another fingerprint); nothing ran.", null, key);
}
