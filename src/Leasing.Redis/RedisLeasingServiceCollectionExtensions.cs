using Leasing;
using Leasing.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis leasing backend.</summary>
public static class RedisLeasingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RedisLeaseStore"/> as the singleton <see cref="ILeaseStore"/> and
    /// <see cref="RedisIdempotencyStore"/> as the singleton <see cref="IIdempotencyStore"/> (each unless
    /// one is registered already) over a connection the container opens from <paramref name="connectionString"/> (StackExchange.Redis
    /// configuration syntax) and disposes with itself. The connection does not fail start-up when
    /// Redis is down (it keeps reconnecting), and commands sent while it is down fail at once
    /// (<see cref="LeaseStoreUnavailableException"/>) instead of queueing.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connectionString">The StackExchange.Redis configuration, e.g. <c>localhost:6379</c>.</param>
    /// <param name="configure">Sets <see cref="RedisLeasingOptions"/>; validated at start.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentException">The connection string is empty or cannot be parsed.</exception>
    public static IServiceCollection AddRedisLeasing(this IServiceCollection services, string connectionString, Action<RedisLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or RedisException)
        {
            throw new ArgumentException($"The Redis connection string cannot be parsed: {e.Message}", nameof(connectionString), e);
        }

        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        return AddCore(services, _ => new LeasingConnection(ConnectionMultiplexer.Connect(configuration), owned: true), configure);
    }

    /// <summary>
    /// Registers <see cref="RedisLeaseStore"/> and <see cref="RedisIdempotencyStore"/> as the singleton
    /// <see cref="ILeaseStore"/> and <see cref="IIdempotencyStore"/> over a connection the host shares; the container does not dispose it.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="redis">The shared connection.</param>
    /// <param name="configure">Sets <see cref="RedisLeasingOptions"/>; validated at start.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLeasing(this IServiceCollection services, IConnectionMultiplexer redis, Action<RedisLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(redis);
        return AddCore(services, _ => new LeasingConnection(redis, owned: false), configure);
    }

    /// <summary>
    /// Registers <see cref="RedisLeaseStore"/> and <see cref="RedisIdempotencyStore"/> as the singleton
    /// <see cref="ILeaseStore"/> and <see cref="IIdempotencyStore"/> over a connection taken from <paramref name="redisFactory"/> on first use (for example one the host
    /// registered itself); the container does not dispose it through this registration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="redisFactory">Returns the shared connection.</param>
    /// <param name="configure">Sets <see cref="RedisLeasingOptions"/>; validated at start.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddRedisLeasing(this IServiceCollection services, Func<IServiceProvider, IConnectionMultiplexer> redisFactory, Action<RedisLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(redisFactory);
        return AddCore(services, provider => new LeasingConnection(redisFactory(provider), owned: false), configure);
    }

    private static IServiceCollection AddCore(IServiceCollection services, Func<IServiceProvider, LeasingConnection> connect, Action<RedisLeasingOptions>? configure)
    {
        var options = services.AddOptions<RedisLeasingOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLeasingOptions>, RedisLeasingOptionsValidator>());
        services.TryAddSingleton(connect);
        services.TryAddSingleton(static provider => new RedisLeaseStore(
            provider.GetRequiredService<LeasingConnection>().Redis,
            provider.GetRequiredService<IOptions<RedisLeasingOptions>>().Value));
        services.TryAddSingleton<ILeaseStore>(static provider => provider.GetRequiredService<RedisLeaseStore>());
        services.TryAddSingleton(static provider => new RedisIdempotencyStore(
            provider.GetRequiredService<LeasingConnection>().Redis,
            provider.GetRequiredService<IOptions<RedisLeasingOptions>>().Value));
        services.TryAddSingleton<IIdempotencyStore>(static provider => provider.GetRequiredService<RedisIdempotencyStore>());
        return services;
    }
}
