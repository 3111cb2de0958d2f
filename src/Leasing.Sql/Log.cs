using Microsoft.Extensions.Logging;

namespace Leasing.Sql;

/// <summary>The log messages of the SQL backend (event ids 401 and up).</summary>
internal static partial class Log
{
    [LoggerMessage(401, LogLevel.Debug, "SQL purge removed {Leases} lease and {Idempotency} idempotency rows.")]
    public static partial void Purged(ILogger logger, int leases, int idempotency);

    [LoggerMessage(402, LogLevel.Warning, "SQL purge failed; it runs again after the next interval.")]
    public static partial void PurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(403, LogLevel.Warning, "SQL vacuum of the lease tables failed; it runs again after the next interval.")]
    public static partial void VacuumFailed(ILogger logger, Exception exception);

    [LoggerMessage(404, LogLevel.Debug, "SQL vacuum of the lease tables ran.")]
    public static partial void Vacuumed(ILogger logger);

    [LoggerMessage(405, LogLevel.Warning, "SQL vacuum of the lease tables stopped: the database role neither owns them nor is a superuser. Vacuum them another way (a tuned autovacuum, or a job run by their owner).")]
    public static partial void VacuumNotAllowed(ILogger logger);
}
