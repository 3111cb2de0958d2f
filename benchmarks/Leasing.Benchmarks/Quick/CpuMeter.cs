using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// CPU seconds a server has used so far, read before and after a measured window: the difference over
/// the pairs completed is the server's CPU per pair. Together with this process's CPU per pair it says
/// where a design spends its time (a single-threaded Redis saturates at one core).
/// </summary>
internal interface IServerCpu
{
    /// <summary>What is measured ("redis-server", "postgres processes").</summary>
    string Name { get; }

    /// <summary>CPU seconds used so far, or null when it cannot be read.</summary>
    ValueTask<double?> SecondsAsync();
}

/// <summary>Redis: <c>INFO cpu</c> (used_cpu_user + used_cpu_sys of the server process).</summary>
internal sealed class RedisServerCpu(IServer server) : IServerCpu
{
    public string Name => "redis-server";

    public async ValueTask<double?> SecondsAsync()
    {
        double total = 0;
        foreach (var group in await server.InfoAsync("cpu").ConfigureAwait(false))
        {
            foreach (var pair in group)
            {
                if (pair.Key is "used_cpu_user" or "used_cpu_sys")
                {
                    total += double.Parse(pair.Value, CultureInfo.InvariantCulture);
                }
            }
        }

        return total;
    }
}

/// <summary>
/// PostgreSQL on this machine: the user and system time of every process named <c>postgres</c>, from
/// <c>/proc</c> (Linux), including backends that exited since the last read (their parent's cutime).
/// Null when the server is not local or <c>/proc</c> is missing.
/// </summary>
internal sealed class LocalPostgresCpu : IServerCpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly bool _local;

    public LocalPostgresCpu(string host) =>
        _local = OperatingSystem.IsLinux() && host is "127.0.0.1" or "localhost" or "::1";

    public string Name => "postgres processes";

    public ValueTask<double?> SecondsAsync()
    {
        if (!_local)
        {
            return ValueTask.FromResult<double?>(null);
        }

        long ticks = 0;
        var found = false;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                if (close < 0 || !stat.AsSpan(0, close).EndsWith("postgres", StringComparison.Ordinal))
                {
                    continue;
                }

                // Fields after "pid (comm) ": state is field 3; utime 14, stime 15, cutime 16, cstime 17.
                var fields = stat[(close + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                    + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                found = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // A process that exited while it was read, or one we may not read.
            }
        }

        return ValueTask.FromResult<double?>(found ? ticks / TicksPerSecond : null);
    }
}

/// <summary>CPU per pair of one measured window: this process's, and the server's when it could be read.</summary>
internal readonly record struct CpuPerPair(double ClientMicros, double? ServerMicros)
{
    public static double ClientSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
