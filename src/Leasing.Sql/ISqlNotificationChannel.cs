namespace Leasing.Sql;

/// <summary>
/// Delivers PostgreSQL notifications (LISTEN/NOTIFY) to the SQL stores, so pool waiters and idempotency
/// waiters in other processes wake when a member is released or a key completes. The Npgsql implementation
/// is <c>NpgsqlNotificationChannel</c> in Leasing.Sql.PostgreSql, which <c>AddPostgresLeasing</c> sets up.
/// Notifications can be lost (a dropped connection); waiters keep polling as the fallback.
/// </summary>
public interface ISqlNotificationChannel
{
    /// <summary>Listens on a notification channel until the returned handle is disposed.</summary>
    /// <param name="channel">The channel name (a lowercase identifier).</param>
    /// <param name="onNotification">Called with each notification's payload, on any thread. Must not block.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle that stops listening when disposed.</returns>
    ValueTask<IAsyncDisposable> ListenAsync(string channel, Action<string> onNotification, CancellationToken cancellationToken = default);
}
