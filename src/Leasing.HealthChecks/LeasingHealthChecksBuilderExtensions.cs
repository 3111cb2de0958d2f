using Leasing;
using Leasing.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Leasing health check.</summary>
public static class LeasingHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the registered <see cref="ILeaseStore"/> (and <see cref="IIdempotencyStore"/>,
    /// when one is registered): healthy when one read round trip succeeds within the timeout, with the
    /// backend and its latency in the data; otherwise <paramref name="failureStatus"/> with the exception.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name; default <c>leasing</c>.</param>
    /// <param name="failureStatus">The status reported on failure; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example "ready").</param>
    /// <param name="configure">Changes the options (timeout, probe key).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is empty, or the options break a rule (timeout not positive, probe key not a valid key).</exception>
    public static IHealthChecksBuilder AddLeasingHealthChecks(
        this IHealthChecksBuilder builder,
        string name = "leasing",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        Action<LeasingHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new LeasingHealthCheckOptions();
        configure?.Invoke(options);
        LeasingHealthCheckOptionsValidator.ThrowIfInvalid(options, nameof(configure));
        return builder.Add(new HealthCheckRegistration(
            name,
            provider => new LeasingHealthCheck(
                provider.GetRequiredService<ILeaseStore>(),
                provider.GetService<IIdempotencyStore>(),
                options,
                provider.GetService<TimeProvider>()),
            failureStatus,
            tags));
    }
}
