using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>One pub/sub handler on one channel; disposing it removes only this handler.</summary>
internal sealed class RedisSubscription : IAsyncDisposable
{
    private readonly ISubscriber subscriber;
    private readonly RedisChannel channel;
    private readonly Action<RedisChannel, RedisValue> handler;
    private int disposed;

    private RedisSubscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler)
    {
        this.subscriber = subscriber;
        this.channel = channel;
        this.handler = handler;
    }

    public static async Task<IAsyncDisposable> StartAsync(IConnectionMultiplexer redis, RedisChannel channel, Action onMessage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var subscriber = redis.GetSubscriber();
        Action<RedisChannel, RedisValue> handler = (_, _) =>
        {
            try
            {
                onMessage();
            }
#pragma warning disable CA1031 // A subscriber's fault must not break the connection's message loop.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        };
        await RedisCalls.RunAsync(subscriber.SubscribeAsync(channel, handler), "a subscription", timeout, cancellationToken).ConfigureAwait(false);
        return new RedisSubscription(subscriber, channel, handler);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await subscriber.UnsubscribeAsync(channel, handler).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // The handler is gone locally either way; the server drops the channel with the connection.
        }
    }
}
