using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasing.Sql;

/// <summary>
/// Runs <see cref="SqlLeaseStore.PurgeExpiredAsync"/> and <see cref="SqlIdempotencyStore.PurgeExpiredAsync"/> every
/// <see cref="SqlLeasingOptions.PurgeInterval"/> on the options' clock, from host start to host stop. A failed purge
/// is logged and tried again at the next tick: a database outage must not stop the host. On PostgreSQL it also runs
/// <see cref="SqlLeaseStore.VacuumAsync"/> every <see cref="SqlLeasingOptions.VacuumInterval"/>, failures likewise.
/// </summary>
internal sealed class SqlPurgeService(IServiceProvider provider) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = SqlBackendRegistration.Options(provider);
        var purge = options.PurgeInterval != Timeout.InfiniteTimeSpan;
        var vacuum = options.VacuumInterval != Timeout.InfiniteTimeSpan;
        if (!purge && !vacuum)
        {
            return Task.CompletedTask;
        }

        // Resolved here so that bad options (the intervals included) fail the start, not a background tick.
        var leases = provider.GetRequiredService<SqlLeaseStore>();
        var idempotency = provider.GetRequiredService<SqlIdempotencyStore>();
        var logger = (ILogger?)provider.GetService<ILoggerFactory>()?.CreateLogger("Leasing.Sql.Purge") ?? NullLogger.Instance;
        var time = options.TimeProvider ?? TimeProvider.System;
        if (purge)
        {
            _loops.Add(EveryAsync(new PeriodicTimer(options.PurgeInterval, time), async stop =>
            {
                var leaseRows = await leases.PurgeExpiredAsync(stop).ConfigureAwait(false);
                var idempotencyRows = await idempotency.PurgeExpiredAsync(stop).ConfigureAwait(false);
                Log.Purged(logger, leaseRows, idempotencyRows);
                return true;
            }, e => Log.PurgeFailed(logger, e), _stop.Token));
        }

        if (vacuum && leases.Dialect == SqlDialect.PostgreSql)
        {
            _loops.Add(EveryAsync(new PeriodicTimer(options.VacuumInterval, time), async stop =>
            {
                if (!await leases.VacuumAsync(stop).ConfigureAwait(false))
                {
                    Log.VacuumNotAllowed(logger);
                    return false; // the role will not be allowed at the next tick either
                }

                Log.Vacuumed(logger);
                return true;
            }, e => Log.VacuumFailed(logger, e), _stop.Token));
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stop.Dispose();
    }

    // Runs work at every tick until the host stops or work answers false; a failure is reported and the next tick tries again.
    private static async Task EveryAsync(PeriodicTimer timer, Func<CancellationToken, ValueTask<bool>> work, Action<Exception> failed, CancellationToken stop)
    {
        using (timer)
        {
            try
            {
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    try
                    {
                        if (!await work(stop).ConfigureAwait(false))
                        {
                            return;
                        }
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        failed(e);
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
