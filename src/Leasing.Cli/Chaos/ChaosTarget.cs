using System.Net;
using System.Net.Sockets;
using Leasing.Cli.Backends;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Cli.Chaos;

/// <summary>
/// Where a chaos run points: the backend named on the command line, or a private server (Redis,
/// PostgreSQL) or temp SQLite file when no connection was given; plus the proxy the workers go
/// through (Redis, PostgreSQL). Owns what it started and removes it when disposed.
/// </summary>
internal sealed class ChaosTarget : IAsyncDisposable
{
    private readonly string? _scratch;

    private ChaosTarget(BackendKind kind, string direct, string workers, PrivateServer? server, FaultProxy? proxy, string? scratch, string description, bool onThisHost)
    {
        OnThisHost = onThisHost;
        Kind = kind;
        Direct = direct;
        ForWorkers = workers;
        Server = server;
        Proxy = proxy;
        _scratch = scratch;
        Description = description;
    }

    public BackendKind Kind { get; }

    /// <summary>The connection string to the server itself (schema, clean-up).</summary>
    public string Direct { get; }

    /// <summary>The connection string the workers use: through the proxy when there is one.</summary>
    public string ForWorkers { get; }

    public PrivateServer? Server { get; }

    /// <summary>Whether the backend's clock is this host's (SQLite, a private server, a given server on a loopback address): then this host's clock watch sees it.</summary>
    public bool OnThisHost { get; }

    public FaultProxy? Proxy { get; }

    /// <summary>For people, without a password.</summary>
    public string Description { get; }

    public static async Task<ChaosTarget> OpenAsync(BackendKind kind, string? connection, CancellationToken cancellationToken)
    {
        if (kind == BackendKind.Sqlite)
        {
            var scratch = connection is null ? Directory.CreateTempSubdirectory("leasing-chaos-sqlite-").FullName : null;
            var path = Path.GetFullPath(connection ?? Path.Combine(scratch!, "chaos.db"));
            return new ChaosTarget(kind, path, path, null, null, scratch, $"sqlite ({path}{(scratch is null ? string.Empty : ", a temp file")})", onThisHost: true);
        }

        PrivateServer? server = null;
        if (connection is null)
        {
            server = kind == BackendKind.Redis
                ? await PrivateRedisServer.StartAsync(cancellationToken).ConfigureAwait(false)
                : await PrivatePostgresServer.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var direct = connection ?? server!.ConnectionString(server.Port);
            var (target, throughProxy) = kind == BackendKind.Redis ? RedisEndpoints(direct) : PostgresEndpoints(direct);
            var resolved = await ResolveAsync(target, cancellationToken).ConfigureAwait(false);
            var proxy = new FaultProxy(resolved);
            var where = server is null ? $"{kind.ToString().ToLowerInvariant()} (given server {target})" : $"{kind.ToString().ToLowerInvariant()} (private server on 127.0.0.1:{server.Port})";
            return new ChaosTarget(kind, direct, throughProxy(proxy.Port), server, proxy, null, $"{where}, workers through a fault proxy on 127.0.0.1:{proxy.Port}", server is not null || IPAddress.IsLoopback(resolved.Address));
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync().ConfigureAwait(false);
        }

        if (Server is not null)
        {
            await Server.DisposeAsync().ConfigureAwait(false);
        }

        if (_scratch is not null)
        {
            try
            {
                Directory.Delete(_scratch, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    private static (EndPoint Target, Func<int, string> ThroughProxy) RedisEndpoints(string connection)
    {
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(connection);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The --redis connection string is not valid: {e.Message}", e);
        }

        if (configuration.EndPoints.Count != 1)
        {
            throw new ArgumentException("The chaos run needs one Redis server (one endpoint) in --redis: it puts its fault proxy in front of it.");
        }

        var target = configuration.EndPoints[0];
        return (target, port =>
        {
            var copy = configuration.Clone();
            copy.EndPoints.Clear();
            copy.EndPoints.Add(IPAddress.Loopback, port);
            return copy.ToString(includePassword: true);
        });
    }

    private static (EndPoint Target, Func<int, string> ThroughProxy) PostgresEndpoints(string connection)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connection);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The --postgres connection string is not valid: {e.Message}", e);
        }

        if (string.IsNullOrEmpty(builder.Host) || builder.Host.Contains(',', StringComparison.Ordinal) || builder.Host.StartsWith('/'))
        {
            throw new ArgumentException("The chaos run needs one PostgreSQL host reached over TCP in --postgres: it puts its fault proxy in front of it.");
        }

        var target = new DnsEndPoint(builder.Host, builder.Port);
        return (target, port => new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString);
    }

    private static async Task<IPEndPoint> ResolveAsync(EndPoint endpoint, CancellationToken cancellationToken)
    {
        switch (endpoint)
        {
            case IPEndPoint ip:
                return ip;
            case DnsEndPoint dns:
                var addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
                    ?? throw new ArgumentException($"Could not resolve {dns.Host}.");
                return new IPEndPoint(address, dns.Port == 0 ? 6379 : dns.Port);
            default:
                throw new ArgumentException($"The chaos run cannot proxy the endpoint {endpoint}.");
        }
    }
}
