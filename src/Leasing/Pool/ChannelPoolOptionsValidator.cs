using Leasing.Internal;

namespace Leasing;

/// <summary>Validates <see cref="ChannelPoolOptions"/>; each failure names the option and the rule.</summary>
internal sealed class ChannelPoolOptionsValidator : OptionsRules<ChannelPoolOptions, ChannelPoolOptionsValidator>
{
    protected override void AddFailures(ChannelPoolOptions options, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add("ChannelPoolOptions.Name is required and must not be whitespace.");
        }
        else if (!LeaseArguments.IsValidKey(options.Name, out var rule))
        {
            failures.Add($"ChannelPoolOptions.Name is invalid: {rule}");
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
                if (!LeaseArguments.IsValidKey(channel, out var rule))
                {
                    failures.Add($"ChannelPoolOptions.Channels holds an invalid channel id: {rule}");
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
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > LeaseArguments.MaxTtl)
        {
            failures.Add($"ChannelPoolOptions.{name} must be greater than zero and at most {LeaseArguments.MaxTtl} (was {value}).");
        }
    }
}
