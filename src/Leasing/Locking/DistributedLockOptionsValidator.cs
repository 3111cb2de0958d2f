using Leasing.Internal;

namespace Leasing;

/// <summary>Validates <see cref="DistributedLockOptions"/>; each failure names the option and the rule.</summary>
internal sealed class DistributedLockOptionsValidator : OptionsRules<DistributedLockOptions, DistributedLockOptionsValidator>
{
    protected override void AddFailures(DistributedLockOptions options, List<string> failures)
    {
        if (options.LeaseDuration <= TimeSpan.Zero || options.LeaseDuration > LeaseArguments.MaxTtl)
        {
            failures.Add($"DistributedLockOptions.LeaseDuration must be greater than zero and at most {LeaseArguments.MaxTtl} (was {options.LeaseDuration}).");
        }

        if (options.RetryMinDelay <= TimeSpan.Zero)
        {
            failures.Add($"DistributedLockOptions.RetryMinDelay must be greater than zero (was {options.RetryMinDelay}).");
        }

        if (options.RetryMaxDelay < options.RetryMinDelay)
        {
            failures.Add($"DistributedLockOptions.RetryMaxDelay must be at least RetryMinDelay (was {options.RetryMaxDelay} < {options.RetryMinDelay}).");
        }

        if (options.OutageTolerance < TimeSpan.Zero || options.OutageTolerance > LeaseArguments.MaxTtl)
        {
            failures.Add($"DistributedLockOptions.OutageTolerance must be between zero and {LeaseArguments.MaxTtl} (was {options.OutageTolerance}).");
        }
    }
}
