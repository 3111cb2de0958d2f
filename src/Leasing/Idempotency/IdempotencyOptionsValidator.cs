using Leasing.Internal;

namespace Leasing;

/// <summary>Validates <see cref="IdempotencyOptions"/>; each failure names the option and the rule.</summary>
internal sealed class IdempotencyOptionsValidator : OptionsRules<IdempotencyOptions, IdempotencyOptionsValidator>
{
    protected override void AddFailures(IdempotencyOptions options, List<string> failures)
    {
        if (options.WaitForInProgress < TimeSpan.Zero || options.WaitForInProgress > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.WaitForInProgress must be between zero (fail fast) and {LeaseArguments.MaxTtl} (was {options.WaitForInProgress}).");
        }

        if (options.Retention <= TimeSpan.Zero || options.Retention > LeaseArguments.MaxRetention)
        {
            failures.Add($"IdempotencyOptions.Retention must be greater than zero and at most {LeaseArguments.MaxRetention} (was {options.Retention}).");
        }

        // Not tied to Retention: the cache keeps an outcome for the shorter of the two, so a short Retention does not
        // make the default cache duration invalid.
        if (options.ReplayCacheDuration < TimeSpan.Zero || options.ReplayCacheDuration > TimeSpan.FromDays(1))
        {
            failures.Add($"IdempotencyOptions.ReplayCacheDuration must be between zero (off) and one day; a replay is never kept longer than Retention (was {options.ReplayCacheDuration}).");
        }

        if (options.LeaseDuration <= TimeSpan.Zero || options.LeaseDuration > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.LeaseDuration must be greater than zero and at most {LeaseArguments.MaxTtl} (was {options.LeaseDuration}).");
        }

        if (options.OutageTolerance < TimeSpan.Zero || options.OutageTolerance > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.OutageTolerance must be between zero and {LeaseArguments.MaxTtl} (was {options.OutageTolerance}).");
        }
    }
}
