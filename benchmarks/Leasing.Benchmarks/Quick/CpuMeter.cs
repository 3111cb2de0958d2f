using System.Diagnostics;
using System.Globalization;
using Npgsql;
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
/// PostgreSQL on this machine: the user and system time of the server the benchmark talks to, from
/// <c>/proc</c> (Linux): its postmaster (with the time of backends that already exited, its cutime) and
/// every live child (backends, walwriter, autovacuum, ...). The postmaster is found as the parent of one
/// of the benchmark's own backends, so another cluster on the machine is not counted. Null when the
/// server is not local or <c>/proc</c> cannot be read.
/// </summary>
internal sealed class LocalPostgresCpu : IServerCpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly int? _postmaster;

    private LocalPostgresCpu(int? postmaster) => _postmaster = postmaster;

    public string Name => "postgres server";

    /// <summary>Finds the postmaster behind <paramref name="dataSource"/> when it runs on this machine.</summary>
    public static async Task<LocalPostgresCpu> ForAsync(NpgsqlDataSource dataSource, string host)
    {
        if (!OperatingSystem.IsLinux() || host is not ("127.0.0.1" or "localhost" or "::1"))
        {
            return new LocalPostgresCpu(null);
        }

        await using var command = dataSource.CreateCommand("SELECT pg_backend_pid()");
        var backend = (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        return new LocalPostgresCpu(Stat(backend) is { } stat ? stat.Parent : null);
    }

    public ValueTask<double?> SecondsAsync()
    {
        if (_postmaster is not { } postmaster || Stat(postmaster) is not { } root)
        {
            return ValueTask.FromResult<double?>(null);
        }

        var ticks = root.Own + root.Children;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Stat(pid) is { } stat && stat.Parent == postmaster)
            {
                ticks += stat.Own + stat.Children;
            }
        }

        return ValueTask.FromResult<double?>(ticks / TicksPerSecond);
    }

    // Fields after "pid (comm) ": state, ppid, ...; utime is field 14, stime 15, cutime 16, cstime 17.
    private static (int Parent, long Own, long Children)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1], CultureInfo.InvariantCulture),
                long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null; // exited while read, or not ours to read
        }
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
