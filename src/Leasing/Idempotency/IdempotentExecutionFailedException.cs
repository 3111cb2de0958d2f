namespace Leasing;

/// <summary>
/// The key's action failed terminally (the options called its exception terminal) and the failure
/// was stored: this replays it. The original exception is never re-created; its type name and
/// message are here.
/// </summary>
public sealed class IdempotentExecutionFailedException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public IdempotentExecutionFailedException()
        : this("The idempotent action failed terminally.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public IdempotentExecutionFailedException(string message)
        : base(message)
    {
        Key = string.Empty;
        ErrorType = string.Empty;
        ErrorMessage = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public IdempotentExecutionFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
        ErrorType = string.Empty;
        ErrorMessage = string.Empty;
    }

    /// <summary>Creates the exception for a stored failure.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="errorType">The full type name of the original exception.</param>
    /// <param name="errorMessage">The message of the original exception.</param>
    public IdempotentExecutionFailedException(string key, string errorType, string errorMessage)
        : base($"The action for idempotency key '{key}' failed terminally with {errorType}: {errorMessage}")
    {
        Key = key;
        ErrorType = errorType;
        ErrorMessage = errorMessage;
    }

    /// <summary>The idempotency key.</summary>
    public string Key { get; }

    /// <summary>The full type name of the original exception.</summary>
    public string ErrorType { get; }

    /// <summary>The message of the original exception.</summary>
    public string ErrorMessage { get; }
}
