namespace Leasing;

/// <summary>
/// A pool acquire found that the backend does not know the pool (its data was lost, e.g. a Redis
/// restart without persistence) or holds an older member list than the caller's. Nothing was
/// claimed. <see cref="ChannelPool"/> handles it itself: it writes its member list again and retries.
/// </summary>
public sealed class PoolMembersOutdatedException : LeasingException
{
    /// <summary>Creates the exception.</summary>
    public PoolMembersOutdatedException()
        : base("The backend does not hold the pool's current member list.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was found.</param>
    public PoolMembersOutdatedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What was found.</param>
    /// <param name="innerException">The cause.</param>
    public PoolMembersOutdatedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a pool.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="storedVersion">The version the backend holds; <see langword="null"/> when it does not know the pool.</param>
    /// <param name="expectedVersion">The caller's version.</param>
    public PoolMembersOutdatedException(string pool, long? storedVersion, long expectedVersion)
        : base(storedVersion is { } stored
            ? $"The backend holds member list version {stored} of pool '{pool}', older than this caller's version {expectedVersion}; write the list again."
            : $"The backend does not know pool '{pool}' (its data was lost or never written); write the member list (version {expectedVersion}) again.")
    {
        Pool = pool;
        StoredVersion = storedVersion;
        ExpectedVersion = expectedVersion;
    }

    /// <summary>The pool name, when known.</summary>
    public string? Pool { get; }

    /// <summary>The version the backend holds; <see langword="null"/> when it does not know the pool.</summary>
    public long? StoredVersion { get; }

    /// <summary>The caller's member-list version.</summary>
    public long ExpectedVersion { get; }
}
