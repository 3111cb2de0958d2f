namespace Leasing.Sql.Tests;

/// <summary>Lease time for the conformance suites on SQL: long enough for a loaded 2-core machine, short enough to wait out.</summary>
public static class SqlTestTimes
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMilliseconds(800);

    public static readonly TimeSpan PoolTtl = TimeSpan.FromSeconds(2);
}
