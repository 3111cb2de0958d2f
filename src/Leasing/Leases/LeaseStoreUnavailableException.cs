namespace Leasing;

/// <summary>The backend could not be reached or did not answer in time. The inner exception is the driver's error.</summary>
public sealed class LeaseStoreUnavailableException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public LeaseStoreUnavailableException()
        : base("The lease store is unavailable.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public LeaseStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the driver's error.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The driver's exception.</param>
    public LeaseStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
