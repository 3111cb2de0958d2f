using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>The package's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Lease lost: pool {Pool}, key {Key}, fencing token {FencingToken}.")]
    public static partial void LeaseLost(ILogger logger, string? pool, string key, long fencingToken);

    [LoggerMessage(2, LogLevel.Warning, "Renewing the lease on pool {Pool}, key {Key} failed; retrying until the local deadline.")]
    public static partial void RenewFailed(ILogger logger, string? pool, string key, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "A lease handle on pool {Pool}, key {Key} was dropped without release; renewal stopped, the lease will expire.")]
    public static partial void HandleAbandoned(ILogger logger, string? pool, string key);

    [LoggerMessage(4, LogLevel.Warning, "Releasing the lease on pool {Pool}, key {Key} at dispose failed; it will expire on its own.")]
    public static partial void ReleaseOnDisposeFailed(ILogger logger, string? pool, string key, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "Pool {Pool}: every channel busy, {Waiters} waiting.")]
    public static partial void PoolBusy(ILogger logger, string pool, int waiters);

    [LoggerMessage(6, LogLevel.Warning, "Pool {Pool}: writing the channel list (version {Version}) failed.")]
    public static partial void MembersWriteFailed(ILogger logger, string pool, long version, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Pool {Pool}: subscribing to release notifications failed; waiters rely on polling.")]
    public static partial void SubscribeFailed(ILogger logger, string pool, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Pool {Pool}: releasing a lease taken for a waiter that left failed; it will expire on its own.")]
    public static partial void OrphanReleaseFailed(ILogger logger, string pool, Exception exception);

    [LoggerMessage(9, LogLevel.Debug, "A grant for a caller that had cancelled was released at once: pool {Pool}, key {Key}, fencing token {FencingToken}.")]
    public static partial void AbandonedGrantReleased(ILogger logger, string? pool, string key, long fencingToken);

    [LoggerMessage(10, LogLevel.Warning, "Releasing a grant for a caller that had cancelled failed (pool {Pool}, key {Key}); it expires after its lease.")]
    public static partial void AbandonedGrantReleaseFailed(ILogger logger, string? pool, string key, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Pool {Pool}: the backend is unreachable; waiters keep waiting for up to the outage tolerance.")]
    public static partial void PoolOutage(ILogger logger, string pool, Exception exception);

    [LoggerMessage(12, LogLevel.Information, "Pool {Pool}: the backend does not hold member list version {Version}; writing it again.")]
    public static partial void MembersOutdated(ILogger logger, string pool, long version);

    [LoggerMessage(101, LogLevel.Debug, "Idempotency key {Key}: the action failed with a retryable error; claim released (attempt {Attempt}).")]
    public static partial void ClaimReleased(ILogger logger, string key, int attempt, Exception exception);

    [LoggerMessage(102, LogLevel.Warning, "Idempotency key {Key}: releasing the claim after a failure did not succeed; the claim expires after its lease.")]
    public static partial void ClaimReleaseFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Idempotency key {Key}: subscribing to completion signals failed; the wait relies on polling.")]
    public static partial void CompletionSubscribeFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(104, LogLevel.Warning, "Idempotency key {Key}: the claim was lost while the action ran (fencing token {FencingToken}).")]
    public static partial void ClaimLost(ILogger logger, string key, long fencingToken);

    [LoggerMessage(121, LogLevel.Warning, "Releasing the lock {Key} at dispose failed; it will expire on its own.")]
    public static partial void LockReleaseAtDisposeFailed(ILogger logger, string key, Exception exception);
}
