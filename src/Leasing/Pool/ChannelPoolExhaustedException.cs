namespace Leasing;

/// <summary>Every channel of a pool stayed held or cooling down for the whole <see cref="ChannelPoolOptions.AcquireTimeout"/>.</summary>
public sealed class ChannelPoolExhaustedException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public ChannelPoolExhaustedException()
        : this("The channel pool is exhausted.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public ChannelPoolExhaustedException(string message)
        : base(message)
    {
        Pool = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public ChannelPoolExhaustedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Pool = string.Empty;
    }

    /// <summary>Creates the exception for a pool with its counts.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="held">How many channels were held.</param>
    /// <param name="coolingDown">How many channels were cooling down.</param>
    /// <param name="total">How many channels the pool has.</param>
    public ChannelPoolExhaustedException(string pool, TimeSpan waited, int held, int coolingDown, int total)
        : base($"No channel of pool '{pool}' became free within {waited.TotalMilliseconds:0} ms: {held} of {total} held, {coolingDown} cooling down.")
    {
        Pool = pool;
        Waited = waited;
        Held = held;
        CoolingDown = coolingDown;
        Total = total;
    }

    /// <summary>The pool name.</summary>
    public string Pool { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Waited { get; }

    /// <summary>How many channels were held when the wait ended.</summary>
    public int Held { get; }

    /// <summary>How many channels were cooling down when the wait ended.</summary>
    public int CoolingDown { get; }

    /// <summary>How many channels the pool has.</summary>
    public int Total { get; }
}
