using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Leasing.HealthChecks;

/// <summary>
/// Healthy when one read round trip to the lease store (and to the idempotency store, when there
/// is one) succeeds within <see cref="LeasingHealthCheckOptions.Timeout"/>; the report's data
/// carries the backend and the latency of each round trip. Otherwise the registration's failure
/// status, with the exception (an outage) or a timeout message. Reads one probe key; writes nothing.
/// </summary>
public sealed class LeasingHealthCheck : IHealthCheck
{
    private readonly ILeaseStore _leases;
    private readonly IIdempotencyStore? _idempotency;
    private readonly TimeSpan _timeout;
    private readonly string _probeKey;
    private readonly TimeProvider _time;

    /// <summary>Creates the check.</summary>
    /// <param name="leases">The lease store to probe.</param>
    /// <param name="idempotency">The idempotency store to probe too, or <see langword="null"/>.</param>
    /// <param name="options">The options; default timeout 5 s.</param>
    /// <param name="timeProvider">The clock for latency and timeout; default <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">The timeout is not positive, or the probe key is not a valid key.</exception>
    public LeasingHealthCheck(ILeaseStore leases, IIdempotencyStore? idempotency = null, LeasingHealthCheckOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(leases);
        options ??= new LeasingHealthCheckOptions();
        LeasingHealthCheckOptionsValidator.ThrowIfInvalid(options, nameof(options));
        _leases = leases;
        _idempotency = idempotency;
        _timeout = options.Timeout;
        _probeKey = options.ProbeKey;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["backend"] = _leases.BackendName,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = _time.GetTimestamp();
        try
        {
            var leases = TimeAsync(() => _leases.InspectAsync([_probeKey], timeout.Token).AsTask(), "lease_store_latency_ms", data);
            var records = _idempotency is null
                ? Task.CompletedTask
                : TimeAsync(() => _idempotency.GetAsync(_probeKey, timeout.Token).AsTask(), "idempotency_store_latency_ms", data);

            // WaitAsync bounds the check even when a driver ignores cancellation.
            await Task.WhenAll(leases, records).WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await timeout.CancelAsync().ConfigureAwait(false);
            data["latency_ms"] = Milliseconds(_time.GetElapsedTime(started));
            return new HealthCheckResult(context.Registration.FailureStatus, string.Create(CultureInfo.InvariantCulture, $"The Leasing backend did not answer within {_timeout.TotalSeconds:0.###} s."), data: data);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            data["latency_ms"] = Milliseconds(_time.GetElapsedTime(started));
            return new HealthCheckResult(context.Registration.FailureStatus, $"The Leasing backend failed: {e.Message}", e, data);
        }

        var latency = _time.GetElapsedTime(started);
        data["latency_ms"] = Milliseconds(latency);
        return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"The Leasing backend answered in {latency.TotalMilliseconds:0.##} ms."), data);
    }

    private async Task TimeAsync(Func<Task> roundTrip, string name, Dictionary<string, object> data)
    {
        var started = _time.GetTimestamp();
        await roundTrip().ConfigureAwait(false);
        var elapsed = Milliseconds(_time.GetElapsedTime(started));
        lock (data)
        {
            data[name] = elapsed;
        }
    }

    private static double Milliseconds(TimeSpan span) => Math.Round(span.TotalMilliseconds, 3);
}
