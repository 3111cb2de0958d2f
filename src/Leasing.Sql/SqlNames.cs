using System.Text.RegularExpressions;

namespace Leasing.Sql;

/// <summary>The table names, from a prefix checked to be a plain identifier (the only text ever put in statements).</summary>
internal sealed partial class SqlNames
{
    public const int MaxPrefixLength = 40;

    public SqlNames(string? prefix, string paramName)
    {
        if (!IsValidPrefix(prefix))
        {
            throw new ArgumentException(PrefixRule(prefix), paramName);
        }

        Prefix = prefix.ToLowerInvariant();
    }

    public static bool IsValidPrefix([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? prefix) => prefix is not null && Identifier().IsMatch(prefix);

    public static string PrefixRule(string? prefix) =>
        $"SqlLeasingOptions.TablePrefix must be an identifier: ASCII letters, digits and underscores, not starting with a digit, 1 to {MaxPrefixLength} characters; got '{prefix}'.";

    public string Prefix { get; }

    public string Schema => Prefix + "schema";

    public string Leases => Prefix + "leases";

    public string Pools => Prefix + "pools";

    public string Members => Prefix + "pool_members";

    public string State => Prefix + "lease_state";

    public string LruSequence => Prefix + "lru";

    public string Idempotency => Prefix + "idempotency";

    public string Waiters => Prefix + "waiters";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
