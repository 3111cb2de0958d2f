using Testcontainers.Redis;

namespace Leasing.Testing;

/// <summary>
/// The Redis server the tests of a run share, found in this order: the connection string in
/// <c>LEASING_REDIS</c>; a container started through a Docker engine, if one answers
/// (Testcontainers.Redis); otherwise the tests fail with a message that says how to start one.
/// A test that needs Redis never passes without it.
/// </summary>
public static class RedisTestServer
{
    /// <summary>The environment variable that names the server (StackExchange.Redis syntax, e.g. <c>127.0.0.1:6390</c>).</summary>
    public const string EnvironmentVariable = "LEASING_REDIS";

    private static readonly Lazy<Task<string>> Connection = new(FindAsync);

    /// <summary>The connection string of the server; starts a container on first call when needed.</summary>
    public static Task<string> GetConnectionStringAsync() => Connection.Value;

    private static async Task<string> FindAsync()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        RedisContainer? container = null;
        try
        {
            container = new RedisBuilder("redis:7.0").Build();
            await container.StartAsync().WaitAsync(TimeSpan.FromMinutes(2));
            var started = container;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => started.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            return container.GetConnectionString();
        }
        catch (Exception e)
        {
            if (container is not null)
            {
                await container.DisposeAsync();
            }

            throw new InvalidOperationException(
                $"No Redis server for the tests: {EnvironmentVariable} is not set and no Docker engine answered ({e.GetType().Name}: {e.Message}). " +
                "Start the project's servers and export their addresses with: eval \"$(eng/services.sh start)\"",
                e);
        }
    }
}
