using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>
/// Release subscriptions that fail half way (the SUBSCRIBE was sent, the answer came too late) leave
/// nothing behind: no local handler that would wake a waiter that is gone, no subscription on the server.
/// </summary>
public sealed class SubscriptionTests
{
    [Theory]
    [InlineData("timeout")]
    [InlineData("cancel")]
    public async Task Issue10_SubscribeThatFailsHalfWay_LeavesNoHandlerAndNoServerSubscription(string failure)
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var timeout = failure == "timeout" ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(30);
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = timeout });

        // Set-up with the default timeout (a loaded machine may need more than the short one); the
        // short timeout is for the failing SUBSCRIBE alone.
        var setUp = new RedisLeaseStore(redis);
        var pool = Unique.Name("pool");
        await setUp.SetPoolMembersAsync(pool, ["a"]);
        await using (await setUp.SubscribeToReleasesAsync(Unique.Name("pool"), static () => { }))
        {
            // The subscription connection is up: the failure below is the SUBSCRIBE's alone.
        }

        var failedWakes = 0;
        server.Pause();
        try
        {
            using var caller = new CancellationTokenSource();
            if (failure == "cancel")
            {
                caller.CancelAfter(TimeSpan.FromMilliseconds(300));
            }

            var subscribe = async () => await store.SubscribeToReleasesAsync(pool, () => Interlocked.Increment(ref failedWakes), caller.Token);
            if (failure == "timeout")
            {
                await subscribe.Should().ThrowAsync<LeaseStoreUnavailableException>();
            }
            else
            {
                await subscribe.Should().ThrowAsync<OperationCanceledException>();
            }
        }
        finally
        {
            server.Resume(); // the server now completes the abandoned SUBSCRIBE
        }

        // A store with the default timeout over the same connection (handlers live on the connection):
        // the short timeout above was for the failure only, a loaded machine may need more now.
        var steady = new RedisLeaseStore(redis);
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var live = await steady.SubscribeToReleasesAsync(pool, () => heard.TrySetResult());
        var lease = (await steady.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!;
        (await steady.ReleaseAsync(lease)).Should().BeTrue();
        await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Handlers of one channel run in the order they were added: a leaked one would have run first.
        Volatile.Read(ref failedWakes).Should().Be(0, "the failed subscription's handler was removed");
        await live.DisposeAsync();
        var channel = store.PoolKeyNamesOf(pool).Channel;
        var counts = (RedisResult[])(await redis.GetServer(redis.GetEndPoints()[0]).ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
        ((long)counts[1]).Should().Be(0, "with the last handler gone the server is unsubscribed too");
    }
}
