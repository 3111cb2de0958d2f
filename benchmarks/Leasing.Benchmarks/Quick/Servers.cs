using System.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// Finds the servers: <c>LEASING_REDIS</c> / <c>LEASING_POSTGRES</c>, else the ones
/// <c>eng/services.sh start</c> starts (it installs and starts them when missing). Each is pinged
/// before anything is measured; an unreachable server ends the run with an error, never a zero.
/// </summary>
internal static class Servers
{
    public static (string Redis, string Postgres) Resolve()
    {
        var redis = Environment.GetEnvironmentVariable("LEASING_REDIS");
        var postgres = Environment.GetEnvironmentVariable("LEASING_POSTGRES");
        if (!string.IsNullOrWhiteSpace(redis) && !string.IsNullOrWhiteSpace(postgres))
        {
            return (redis, postgres);
        }

        var script = Path.Combine(FindRepositoryRoot(), "eng", "services.sh");
        Console.Error.WriteLine($"LEASING_REDIS / LEASING_POSTGRES not set: running {script} start");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, "start"])
        {
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException($"Could not run {script}.");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} start failed (exit code {process.ExitCode}).");
        }

        foreach (var line in output.Split('\n'))
        {
            // export LEASING_REDIS='127.0.0.1:6390'
            var parts = line.Replace("export ", "", StringComparison.Ordinal).Split('=', 2);
            if (parts.Length == 2)
            {
                var value = parts[1].Trim().Trim('\'');
                if (parts[0] == "LEASING_REDIS" && string.IsNullOrWhiteSpace(redis))
                {
                    redis = value;
                }
                else if (parts[0] == "LEASING_POSTGRES" && string.IsNullOrWhiteSpace(postgres))
                {
                    postgres = value;
                }
            }
        }

        if (string.IsNullOrWhiteSpace(redis) || string.IsNullOrWhiteSpace(postgres))
        {
            throw new InvalidOperationException($"{script} start printed no LEASING_REDIS / LEASING_POSTGRES.");
        }

        return (redis, postgres);
    }

    public static async Task<ConnectionMultiplexer> ConnectRedisAsync(string configuration, string clientName)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.AllowAdmin = true; // INFO commandstats and SCAN for the run's own keys
        options.ConnectTimeout = 5000;
        options.ClientName = clientName;
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
            await redis.GetDatabase().PingAsync().ConfigureAwait(false);
            return redis;
        }
        catch (RedisException e)
        {
            throw new InvalidOperationException(
                $"Redis at '{configuration}' is unreachable ({e.Message}). Start it with: eval \"$(eng/services.sh start)\"", e);
        }
    }

    public static async Task<NpgsqlDataSource> ConnectPostgresAsync(string connectionString, int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = maxPoolSize, Timeout = 5 };
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync().ConfigureAwait(false);
            return dataSource;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"PostgreSQL at '{builder.Host}:{builder.Port}' is unreachable ({e.Message}). Start it with: eval \"$(eng/services.sh start)\"", e);
        }
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Leasing.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("LEASING_REDIS / LEASING_POSTGRES are not set and no Leasing.sln was found above the current folder to run eng/services.sh.");
    }
}
