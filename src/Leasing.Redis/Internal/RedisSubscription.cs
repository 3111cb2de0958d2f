using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>One pub/sub handler on one channel; disposing it removes only this handler.</summary>
/// <remarks>
/// StackExchange.Redis registers a handler locally before it sends SUBSCRIBE, and keeps it when the
/// SUBSCRIBE fails, times out, or is abandoned by a cancelled caller (the command still completes
/// later). So a start that does not complete removes its handler again: otherwise it would wake a
/// waiter that is gone for as long as the connection lives, and keep the server subscribed.
/// </remarks>
internal sealed class RedisSubscription : IAsyncDisposable
{
    private readonly ISubscriber _subscriber;
    private readonly RedisChannel _channel;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly TimeSpan _timeout;
    private int _disposed;

    private RedisSubscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler, TimeSpan timeout)
    {
        _subscriber = subscriber;
        _channel = channel;
        _handler = handler;
        _timeout = timeout;
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
        var subscription = new RedisSubscription(subscriber, channel, handler, timeout);
        try
        {
            await RedisCalls.RunAsync(SubscribeAsync(subscriber, channel, handler), "a subscription", timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            // The handler leaves the local table at once; the UNSUBSCRIBE (sent when it was the
            // channel's last handler) follows any SUBSCRIBE still in flight on the same connection.
            await RedisCalls.RunAsync(UnsubscribeAsync(_subscriber, _channel, _handler), "an unsubscription", _timeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or ObjectDisposedException)
        {
            // The handler is gone locally either way; the server drops the channel with the connection.
        }
    }

    // Async wrappers so that a driver that throws before returning a task (a disposed connection)
    // fails the same way as one whose task faults.
    private static async Task SubscribeAsync(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) =>
        await subscriber.SubscribeAsync(channel, handler).ConfigureAwait(false);

    private static async Task UnsubscribeAsync(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) =>
        await subscriber.UnsubscribeAsync(channel, handler).ConfigureAwait(false);
}
