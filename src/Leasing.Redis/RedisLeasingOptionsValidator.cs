using Microsoft.Extensions.Options;

namespace Leasing.Redis;

/// <summary>Validates <see cref="RedisLeasingOptions"/>; each failure names the option and the rule.</summary>
internal sealed class RedisLeasingOptionsValidator : IValidateOptions<RedisLeasingOptions>
{
    private static readonly TimeSpan MaxCommandTimeout = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, RedisLeasingOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every broken rule.</summary>
    public static void ThrowIfInvalid(RedisLeasingOptions options, string paramName)
    {
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }

    public static List<string> Check(RedisLeasingOptions options)
    {
        var failures = new List<string>();
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

        return failures;
    }
}
