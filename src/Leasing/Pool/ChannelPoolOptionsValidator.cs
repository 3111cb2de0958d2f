using Microsoft.Extensions.Options;

namespace Leasing;

/// <summary>Validates <see cref="ChannelPoolOptions"/>; each failure names the option and the rule.</summary>
internal sealed class ChannelPoolOptionsValidator : IValidateOptions<ChannelPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, ChannelPoolOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming every broken rule.</summary>
    public static void ThrowIfInvalid(ChannelPoolOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(options, paramName);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }

    public static List<string> Check(ChannelPoolOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add("ChannelPoolOptions.Name is required and must not be whitespace.");
        }
        else if (!IsValidKey(options.Name, out var why))
        {
            failures.Add($"ChannelPoolOptions.Name is invalid: {why}");
        }

        if (options.Channels is null || options.Channels.Count == 0)
        {
            failures.Add("ChannelPoolOptions.Channels must hold at least one channel.");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var channel in options.Channels)
            {
                if (!IsValidKey(channel, out var why))
                {
                    failures.Add($"ChannelPoolOptions.Channels holds an invalid channel id: {why}");
                    break;
                }

                if (!seen.Add(channel))
                {
                    failures.Add($"ChannelPoolOptions.Channels must be distinct; '{channel}' appears more than once.");
                    break;
                }
            }
        }

        CheckDuration(failures, nameof(ChannelPoolOptions.LeaseDuration), options.LeaseDuration);
        CheckDuration(failures, nameof(ChannelPoolOptions.Cooldown), options.Cooldown);
        if (options.AcquireTimeout < TimeSpan.Zero)
        {
            failures.Add($"ChannelPoolOptions.AcquireTimeout must not be negative (was {options.AcquireTimeout}); use TimeSpan.Zero to try once.");
        }

        if (options.MembersVersion < 0)
        {
            failures.Add($"ChannelPoolOptions.MembersVersion must not be negative (was {options.MembersVersion}).");
        }

        if (options.RetryMinDelay <= TimeSpan.Zero)
        {
            failures.Add($"ChannelPoolOptions.RetryMinDelay must be greater than zero (was {options.RetryMinDelay}).");
        }

        if (options.RetryMaxDelay < options.RetryMinDelay)
        {
            failures.Add($"ChannelPoolOptions.RetryMaxDelay must be at least RetryMinDelay (was {options.RetryMaxDelay} < {options.RetryMinDelay}).");
        }

        if (options.MaxAcquiresInFlight is < 1 or > 256)
        {
            failures.Add($"ChannelPoolOptions.MaxAcquiresInFlight must be between 1 and 256 (was {options.MaxAcquiresInFlight}).");
        }

        if (options.OutageTolerance < TimeSpan.Zero || options.OutageTolerance > LeaseArguments.MaxTtl)
        {
            failures.Add($"ChannelPoolOptions.OutageTolerance must be between zero and {LeaseArguments.MaxTtl} (was {options.OutageTolerance}).");
        }

        return failures;
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > LeaseArguments.MaxTtl)
        {
            failures.Add($"ChannelPoolOptions.{name} must be greater than zero and at most {LeaseArguments.MaxTtl} (was {value}).");
        }
    }

    private static bool IsValidKey(string? key, out string why)
    {
        try
        {
            LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
            why = string.Empty;
            return true;
        }
        catch (ArgumentException e)
        {
            why = e.Message;
            return false;
        }
    }
}
