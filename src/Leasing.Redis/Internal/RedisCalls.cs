using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>
/// Runs one call to Redis within the caller's cancellation and the store's command timeout, and
/// turns driver failures (connection, timeout, server errors) into <see cref="LeaseStoreUnavailableException"/>
/// with the driver's exception inside.
/// </summary>
internal static class RedisCalls
{
    public static async Task<T> RunAsync<T>(Task<T> call, string operation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe(call);
            throw new LeaseStoreUnavailableException($"Redis did not complete {operation}: {e.Message}", e);
        }
        catch (OperationCanceledException)
        {
            Observe(call);
            throw;
        }
    }

    public static async Task RunAsync(Task call, string operation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await call.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe(call);
            throw new LeaseStoreUnavailableException($"Redis did not complete {operation}: {e.Message}", e);
        }
        catch (OperationCanceledException)
        {
            Observe(call);
            throw;
        }
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
