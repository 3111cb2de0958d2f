namespace Leasing.HealthChecks;

/// <summary>Options of the Leasing health check.</summary>
public sealed class LeasingHealthCheckOptions
{
    /// <summary>How long the backend may take to answer before the check reports failure.</summary>
    /// <value>Default 5 s; greater than zero.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The key the check reads (never writes): a lease key and an idempotency key nobody uses.</summary>
    /// <value>Default <c>leasing-health-probe</c>; a valid key.</value>
    public string ProbeKey { get; set; } = "leasing-health-probe";
}
