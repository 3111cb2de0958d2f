using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>What both Redis stores build from their constructor arguments, checked the same way.</summary>
/// <param name="Redis">The shared connection.</param>
/// <param name="Database">Its default database.</param>
/// <param name="Names">The key names under the options' prefix.</param>
/// <param name="Timeout">The command timeout.</param>
/// <param name="Endpoint">The endpoints, as outage messages name them.</param>
/// <param name="Options">The options (defaults when none were given), validated.</param>
internal readonly record struct RedisStoreSetup(IConnectionMultiplexer Redis, IDatabase Database, RedisKeyNames Names, TimeSpan Timeout, string Endpoint, RedisLeasingOptions Options)
{
    /// <summary>Checks the arguments (before any I/O) and builds the setup.</summary>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <returns>The setup.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="redis"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static RedisStoreSetup Create(IConnectionMultiplexer redis, RedisLeasingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new RedisLeasingOptions();
        RedisLeasingOptionsValidator.ThrowIfInvalid(options, nameof(options));
        return new(redis, redis.GetDatabase(), new RedisKeyNames(options.KeyPrefix), options.CommandTimeout, RedisCalls.Describe(redis), options);
    }
}
