using StackExchange.Redis;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// Baseline: the global-mutex pool the library replaced. Acquire takes a pool-wide mutex
/// (<c>SET NX PX 1000</c>, retried after 10-30 ms while taken), then checks the channels in order
/// with <c>EXISTS</c> and marks the first free one in use with <c>SET PX</c>, then frees the mutex.
/// Release deletes the in-use key.
/// </summary>
internal sealed class GlobalMutexPool
{
    private readonly IDatabase _db;
    private readonly RedisKey _mutex;
    private readonly RedisKey[] _inUse;

    public GlobalMutexPool(IDatabase db, string prefix, int channels)
    {
        _db = db;
        _mutex = $"{prefix}:gm:mutex";
        _inUse = [.. Enumerable.Range(0, channels).Select(i => (RedisKey)$"{prefix}:gm:inuse:ch-{i}")];
    }

    public async ValueTask<int> AcquireAsync()
    {
        var token = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow + SeedConstants.AcquireTimeout;
        while (!await _db.StringSetAsync(_mutex, token, SeedConstants.GlobalMutex, When.NotExists).ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Global-mutex pool: mutex not obtained within the acquire timeout.");
            }

            await Task.Delay(SeedConstants.Jitter()).ConfigureAwait(false);
        }

        try
        {
            for (var i = 0; i < _inUse.Length; i++)
            {
                if (!await _db.KeyExistsAsync(_inUse[i]).ConfigureAwait(false))
                {
                    await _db.StringSetAsync(_inUse[i], token, SeedConstants.InUse).ConfigureAwait(false);
                    return i;
                }
            }

            throw new InvalidOperationException("Global-mutex pool: every channel is in use.");
        }
        finally
        {
            await _db.KeyDeleteAsync(_mutex).ConfigureAwait(false);
        }
    }

    public async ValueTask ReleaseAsync(int channel) => await _db.KeyDeleteAsync(_inUse[channel]).ConfigureAwait(false);
}
