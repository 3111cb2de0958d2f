using Leasing.Internal;

namespace Leasing.HealthChecks;

/// <summary>Validates <see cref="LeasingHealthCheckOptions"/>; each failure names the option and the rule.</summary>
internal sealed class LeasingHealthCheckOptionsValidator : OptionsRules<LeasingHealthCheckOptions, LeasingHealthCheckOptionsValidator>
{
    protected override void AddFailures(LeasingHealthCheckOptions options, List<string> failures)
    {
        if (options.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"LeasingHealthCheckOptions.Timeout must be greater than zero (was {options.Timeout}).");
        }

        if (!LeaseArguments.IsValidKey(options.ProbeKey, out var rule))
        {
            failures.Add($"LeasingHealthCheckOptions.ProbeKey is invalid: {rule}");
        }
    }
}
