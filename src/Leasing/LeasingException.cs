namespace Leasing;

/// <summary>
/// The base of the exceptions the library throws for its own reasons: a backend out of reach
/// (<see cref="LeaseStoreUnavailableException"/>), a pool with no free channel in time
/// (<see cref="ChannelPoolExhaustedException"/>), an outdated member list, and the idempotent
/// executor's outcomes (key reuse, still in progress, a stored failure, a lost claim). Catch it to
/// handle all of them in one place. Bad arguments stay <see cref="ArgumentException"/>, cancellation
/// stays <see cref="OperationCanceledException"/> and a lock wait that ran out stays
/// <see cref="TimeoutException"/>.
/// </summary>
public abstract class LeasingException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected LeasingException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    protected LeasingException(string? message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    protected LeasingException(string? message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
