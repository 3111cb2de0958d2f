using System.Text.Json;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// Baseline: the read-all-then-claim pool. Each try reads every in-use key (<c>SCAN</c>) and the
/// LRU JSON document, orders the free channels by last use, then for each candidate takes a claim
/// lock (<c>SET NX PX 3000</c>), double-checks with <c>EXISTS</c>, marks it in use (<c>SET PX</c>),
/// rewrites the LRU document (read-modify-write) and drops the claim lock. Up to 30 tries, 10-30 ms
/// apart. Release deletes the in-use key.
/// </summary>
internal sealed class ReadThenClaimPool
{
    private readonly IDatabase _db;
    private readonly IServer _server;
    private readonly string[] _channels;
    private readonly string _inUsePrefix;
    private readonly string _claimPrefix;
    private readonly RedisKey _lru;

    private ReadThenClaimPool(IDatabase db, IServer server, string prefix, int channels)
    {
        _db = db;
        _server = server;
        _channels = [.. Enumerable.Range(0, channels).Select(i => $"ch-{i}")];
        _inUsePrefix = $"{prefix}:rtc:inuse:";
        _claimPrefix = $"{prefix}:rtc:claim:";
        _lru = $"{prefix}:rtc:lru";
    }

    public static async Task<ReadThenClaimPool> CreateAsync(IDatabase db, IServer server, string prefix, int channels)
    {
        var pool = new ReadThenClaimPool(db, server, prefix, channels);
        var lru = pool._channels.ToDictionary(c => c, _ => 0L);
        await db.StringSetAsync(pool._lru, JsonSerializer.Serialize(lru)).ConfigureAwait(false);
        return pool;
    }

    public async ValueTask<string> AcquireAsync()
    {
        var token = Guid.NewGuid().ToString("N");
        for (var attempt = 0; attempt < SeedConstants.ClaimTries; attempt++)
        {
            var inUse = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var key in _server.KeysAsync(_db.Database, _inUsePrefix + "*", pageSize: 1000).ConfigureAwait(false))
            {
                inUse.Add(((string)key!)[_inUsePrefix.Length..]);
            }

            var lru = await ReadLruAsync().ConfigureAwait(false);
            var candidates = _channels.Where(c => !inUse.Contains(c)).OrderBy(c => lru.GetValueOrDefault(c));
            foreach (var channel in candidates)
            {
                var claim = (RedisKey)(_claimPrefix + channel);
                if (!await _db.StringSetAsync(claim, token, SeedConstants.ClaimLock, When.NotExists).ConfigureAwait(false))
                {
                    continue;
                }

                try
                {
                    var inUseKey = (RedisKey)(_inUsePrefix + channel);
                    if (await _db.KeyExistsAsync(inUseKey).ConfigureAwait(false))
                    {
                        continue;
                    }

                    await _db.StringSetAsync(inUseKey, token, SeedConstants.InUse).ConfigureAwait(false);
                    var fresh = await ReadLruAsync().ConfigureAwait(false);
                    fresh[channel] = DateTime.UtcNow.Ticks;
                    await _db.StringSetAsync(_lru, JsonSerializer.Serialize(fresh)).ConfigureAwait(false);
                    return channel;
                }
                finally
                {
                    await _db.KeyDeleteAsync(claim).ConfigureAwait(false);
                }
            }

            await Task.Delay(SeedConstants.Jitter()).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"Read-all-then-claim pool: no channel claimed in {SeedConstants.ClaimTries} tries.");
    }

    public async ValueTask ReleaseAsync(string channel) => await _db.KeyDeleteAsync(_inUsePrefix + channel).ConfigureAwait(false);

    private async Task<Dictionary<string, long>> ReadLruAsync()
    {
        var json = await _db.StringGetAsync(_lru).ConfigureAwait(false);
        return JsonSerializer.Deserialize<Dictionary<string, long>>((string)json!) ?? [];
    }
}
