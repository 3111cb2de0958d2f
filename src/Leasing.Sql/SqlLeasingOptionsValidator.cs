using Microsoft.Extensions.Options;

namespace Leasing.Sql;

/// <summary>
/// Validates <see cref="SqlLeasingOptions"/> at host start (<c>ValidateOnStart</c>), with the rules the stores
/// check when they are built; each failure names the option and the rule.
/// </summary>
internal sealed class SqlLeasingOptionsValidator : IValidateOptions<SqlLeasingOptions>
{
    public const string CommandTimeoutRule = "SqlLeasingOptions.CommandTimeout must be between one second and one day.";

    public const string PurgeIntervalRule =
        "SqlLeasingOptions.PurgeInterval must be positive and at most one day, or Timeout.InfiniteTimeSpan to turn the background purge off.";

    public ValidateOptionsResult Validate(string? name, SqlLeasingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!SqlNames.IsValidPrefix(options.TablePrefix))
        {
            failures.Add(SqlNames.PrefixRule(options.TablePrefix));
        }

        if (!IsValidCommandTimeout(options.CommandTimeout))
        {
            failures.Add(CommandTimeoutRule + $" Got {options.CommandTimeout}.");
        }

        if (!IsValidPurgeInterval(options.PurgeInterval))
        {
            failures.Add(PurgeIntervalRule + $" Got {options.PurgeInterval}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static bool IsValidCommandTimeout(TimeSpan timeout) => timeout >= TimeSpan.FromSeconds(1) && timeout <= TimeSpan.FromDays(1);

    public static bool IsValidPurgeInterval(TimeSpan interval) =>
        interval == Timeout.InfiniteTimeSpan || (interval > TimeSpan.Zero && interval <= TimeSpan.FromDays(1));
}
