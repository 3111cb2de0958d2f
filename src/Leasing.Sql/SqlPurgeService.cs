using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasing.Sql;

/// <summary>
/// Runs <see cref="SqlLeaseStore.PurgeExpiredAsync"/> and <see cref="SqlIdempotencyStore.PurgeExpiredAsync"/> every
/// <see cref="SqlLeasingOptions.PurgeInterval"/> on the options' clock, from host start to host stop. A failed purge
/// is logged and tried again at the next tick: a database outage must not stop the host.
/// </summary>
internal sealed class SqlPurgeService(IServiceProvider provider) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = SqlBackendRegistration.Options(provider);
        if (options.PurgeInterval == Timeout.InfiniteTimeSpan)
        {
            return Task.CompletedTask;
        }

        // Resolved here so that bad options (PurgeInterval included) fail the start, not a background tick.
        var leases = provider.GetRequiredService<SqlLeaseStore>();
        var idempotency = provider.GetRequiredService<SqlIdempotencyStore>();
        var logger = (ILogger?)provider.GetService<ILoggerFactory>()?.CreateLogger("Leasing.Sql.Purge") ?? NullLogger.Instance;
        var timer = new PeriodicTimer(options.PurgeInterval, options.TimeProvider ?? TimeProvider.System);
        _loop = RunAsync(timer, leases, idempotency, logger, _stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private static async Task RunAsync(PeriodicTimer timer, SqlLeaseStore leases, SqlIdempotencyStore idempotency, ILogger logger, CancellationToken stop)
    {
        using (timer)
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    try
                    {
                        var leaseRows = await leases.PurgeExpiredAsync(stop).ConfigureAwait(false);
                        var idempotencyRows = await idempotency.PurgeExpiredAsync(stop).ConfigureAwait(false);
                        Log.Purged(logger, leaseRows, idempotencyRows);
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        Log.PurgeFailed(logger, e);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The host stops.
            }
        }
    }
}
