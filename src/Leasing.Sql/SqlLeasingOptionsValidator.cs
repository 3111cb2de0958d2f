using Leasing.Internal;

namespace Leasing.Sql;

/// <summary>
/// Validates <see cref="SqlLeasingOptions"/> at host start (<c>ValidateOnStart</c>) and when a store is
/// built, with the same rules; each failure names the option and the rule.
/// </summary>
internal sealed class SqlLeasingOptionsValidator : OptionsRules<SqlLeasingOptions, SqlLeasingOptionsValidator>
{
    protected override void AddFailures(SqlLeasingOptions options, List<string> failures)
    {
        if (!SqlNames.IsValidPrefix(options.TablePrefix))
        {
            failures.Add(SqlNames.PrefixRule(options.TablePrefix));
        }

        if (options.CommandTimeout < TimeSpan.FromSeconds(1) || options.CommandTimeout > TimeSpan.FromDays(1))
        {
            failures.Add($"SqlLeasingOptions.CommandTimeout must be between one second and one day. Got {options.CommandTimeout}.");
        }

        if (options.PurgeInterval != Timeout.InfiniteTimeSpan && (options.PurgeInterval <= TimeSpan.Zero || options.PurgeInterval > TimeSpan.FromDays(1)))
        {
            failures.Add(
                "SqlLeasingOptions.PurgeInterval must be positive and at most one day, or Timeout.InfiniteTimeSpan to turn the background purge off. " +
                $"Got {options.PurgeInterval}.");
        }

        if (options.VacuumInterval != Timeout.InfiniteTimeSpan && (options.VacuumInterval <= TimeSpan.Zero || options.VacuumInterval > TimeSpan.FromHours(1)))
        {
            failures.Add(
                "SqlLeasingOptions.VacuumInterval must be positive and at most one hour, or Timeout.InfiniteTimeSpan to turn the background vacuum off. " +
                $"Got {options.VacuumInterval}.");
        }
    }
}
