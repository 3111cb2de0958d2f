using Leasing.Internal;

namespace Leasing.Redis;

/// <summary>Validates <see cref="RedisLeasingOptions"/>; each failure names the option and the rule.</summary>
internal sealed class RedisLeasingOptionsValidator : OptionsRules<RedisLeasingOptions, RedisLeasingOptionsValidator>
{
    private static readonly TimeSpan MaxCommandTimeout = TimeSpan.FromMinutes(5);

    protected override void AddFailures(RedisLeasingOptions options, List<string> failures)
    {
        var prefix = options.KeyPrefix;
        if (string.IsNullOrEmpty(prefix))
        {
            failures.Add("RedisLeasingOptions.KeyPrefix is required.");
        }
        else if (prefix.Length > RedisLeasingOptions.MaxKeyPrefixLength)
        {
            failures.Add($"RedisLeasingOptions.KeyPrefix must be at most {RedisLeasingOptions.MaxKeyPrefixLength} characters; it has {prefix.Length}.");
        }
        else if (!prefix.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':'))
        {
            failures.Add($"RedisLeasingOptions.KeyPrefix may hold only ASCII letters, digits and . _ - : (braces would move keys to other cluster slots); '{prefix}' does not.");
        }

        if (options.WaitForReplicas < 0)
        {
            failures.Add($"RedisLeasingOptions.WaitForReplicas must be 0 (off) or more; it is {options.WaitForReplicas}.");
        }

        if (options.CommandTimeout <= TimeSpan.Zero || options.CommandTimeout > MaxCommandTimeout)
        {
            failures.Add($"RedisLeasingOptions.CommandTimeout must be greater than zero and at most {MaxCommandTimeout}; it is {options.CommandTimeout}.");
        }
    }
}
