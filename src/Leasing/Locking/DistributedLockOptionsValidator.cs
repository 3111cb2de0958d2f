using Microsoft.Extensions.Options;

namespace Leasing;

/// <summary>Validates <see cref="DistributedLockOptions"/>; each failure names the option and the rule.</summary>
internal sealed class DistributedLockOptionsValidator : IValidateOptions<DistributedLockOptions>
{
    public ValidateOptionsResult Validate(string? name, DistributedLockOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every broken rule.</summary>
    public static void ThrowIfInvalid(DistributedLockOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(options, paramName);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }

    public static List<string> Check(DistributedLockOptions options)
    {
        var failures = new List<string>();
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

        return failures;
    }
}
