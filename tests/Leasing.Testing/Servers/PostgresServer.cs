using Testcontainers.PostgreSql;

namespace Leasing.Testing.Servers;

/// <summary>
/// The PostgreSQL server the tests of a run share: <c>LEASING_POSTGRES</c> when set, else a
/// Testcontainers container when a Docker engine answers, else a failure that says how to start one.
/// Tests isolate themselves with unique table prefixes, never with their own database.
/// </summary>
public static class PostgresServer
{
    /// <summary>The environment variable holding a connection string.</summary>
    public const string Variable = "LEASING_POSTGRES";

    private static readonly Lazy<Task<string>> Server = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The connection string of the shared server, starting a container on first use if needed.</summary>
    /// <exception cref="InvalidOperationException">No server is configured and no Docker engine answers.</exception>
    public static Task<string> GetConnectionStringAsync() => Server.Value;

    private static async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        try
        {
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync().WaitAsync(TimeSpan.FromMinutes(2));

            // The container lives as long as the test run; Testcontainers' reaper removes it afterwards.
            return container.GetConnectionString();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL server for the tests: {Variable} is not set and no Docker engine answered ({e.GetType().Name}: {e.Message}). " +
                "Start the project's servers and export their addresses with: eval \"$(eng/services.sh start)\"",
                e);
        }
    }
}
