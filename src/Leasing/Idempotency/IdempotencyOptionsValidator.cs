using Microsoft.Extensions.Options;

namespace Leasing;

/// <summary>Validates <see cref="IdempotencyOptions"/>; each failure names the option and the rule.</summary>
internal sealed class IdempotencyOptionsValidator : IValidateOptions<IdempotencyOptions>
{
    public ValidateOptionsResult Validate(string? name, IdempotencyOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every broken rule.</summary>
    public static void ThrowIfInvalid(IdempotencyOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(options, paramName);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }

    public static List<string> Check(IdempotencyOptions options)
    {
        var failures = new List<string>();
        if (options.WaitForInProgress < TimeSpan.Zero || options.WaitForInProgress > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.WaitForInProgress must be between zero (fail fast) and {LeaseArguments.MaxTtl} (was {options.WaitForInProgress}).");
        }

        if (options.Retention <= TimeSpan.Zero || options.Retention > LeaseArguments.MaxRetention)
        {
            failures.Add($"IdempotencyOptions.Retention must be greater than zero and at most {LeaseArguments.MaxRetention} (was {options.Retention}).");
        }

        if (options.ReplayCacheDuration < TimeSpan.Zero || options.ReplayCacheDuration > options.Retention)
        {
            failures.Add($"IdempotencyOptions.ReplayCacheDuration must be between zero (off) and Retention ({options.Retention}) (was {options.ReplayCacheDuration}).");
        }

        if (options.LeaseDuration <= TimeSpan.Zero || options.LeaseDuration > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.LeaseDuration must be greater than zero and at most {LeaseArguments.MaxTtl} (was {options.LeaseDuration}).");
        }

        if (options.OutageTolerance < TimeSpan.Zero || options.OutageTolerance > LeaseArguments.MaxTtl)
        {
            failures.Add($"IdempotencyOptions.OutageTolerance must be between zero and {LeaseArguments.MaxTtl} (was {options.OutageTolerance}).");
        }

        return failures;
    }
}
