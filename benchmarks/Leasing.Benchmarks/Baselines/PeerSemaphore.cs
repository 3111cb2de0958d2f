using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// The peer's answer for anonymous slots: one <c>RedisDistributedSemaphore</c> (default options)
/// with <c>maxCount</c> = the number of channels; a pair is <c>AcquireAsync()</c> (the library's
/// own wait: it retries after a sleep of 10–800 ms while no slot is free) and disposing the handle.
/// </summary>
internal sealed class PeerSemaphore(IDatabase database, string key, int slots)
{
    private readonly RedisDistributedSemaphore _semaphore = new(key, slots, database);

    /// <summary>Takes a slot and gives it back at once (a 0-µs hold).</summary>
    public async ValueTask PairAsync()
    {
        var handle = await _semaphore.AcquireAsync().ConfigureAwait(false);
        await handle.DisposeAsync().ConfigureAwait(false);
    }
}
