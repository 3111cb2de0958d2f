using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>
/// Runs one call to Redis within the caller's cancellation and the store's command timeout, and
/// turns driver failures (connection, timeout, server errors) into <see cref="LeaseStoreUnavailableException"/>
/// with the driver's exception inside.
/// </summary>
internal static class RedisCalls
{
    public static async Task<T> RunAsync<T>(Task<T> call, string operation, TimeSpan timeout, CancellationToken cancellationToken, string? endpoint = null)
    {
        try
        {
            return await call.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe(call);
            throw Unavailable(e, operation, timeout, endpoint);
        }
        catch (OperationCanceledException)
        {
            Observe(call);
            throw;
        }
    }

    public static async Task RunAsync(Task call, string operation, TimeSpan timeout, CancellationToken cancellationToken, string? endpoint = null)
    {
        try
        {
            await call.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe(call);
            throw Unavailable(e, operation, timeout, endpoint);
        }
        catch (OperationCanceledException)
        {
            Observe(call);
            throw;
        }
    }

    /// <summary>The endpoints of a connection, for messages (never its configuration string, which may hold a password).</summary>
    public static string Describe(IConnectionMultiplexer redis) =>
        string.Join(", ", redis.GetEndPoints().Select(static e => e switch
        {
            System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => e.ToString() ?? "?",
        }));

    // Says what the caller asked for, where, and what is known of its outcome; the driver's own text
    // (with its diagnostics and configuration advice) stays in the inner exception.
    private static LeaseStoreUnavailableException Unavailable(Exception e, string operation, TimeSpan timeout, string? endpoint)
    {
        var at = string.IsNullOrEmpty(endpoint) ? "Redis" : $"Redis ({endpoint})";
        var message = e switch
        {
            RedisConnectionException connection => $"{at} could not be reached for {operation} ({connection.FailureType}); the command was not completed.",
            TimeoutException or RedisTimeoutException => $"{at} did not answer {operation} within {timeout.TotalMilliseconds:0} ms; the command may have run on the server.",
            RedisServerException server => $"{at} refused {operation}: {server.Message}",
            _ => $"{at} did not complete {operation}: {e.Message}",
        };
        return new LeaseStoreUnavailableException(message, e);
    }

    // A call we stopped waiting for may still fail later: observe it so its error is not unobserved.
    private static void Observe(Task call)
    {
        if (!call.IsCompleted)
        {
            call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
