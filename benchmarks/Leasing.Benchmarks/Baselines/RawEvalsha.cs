using StackExchange.Redis;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// The physical limit on Redis: one trivial script round trip (<c>EVALSHA</c> of a compare-and-pexpire
/// on one key). A pair is two of them, as an acquire plus a release would be at best.
/// </summary>
internal sealed class RawEvalsha
{
    // Compare-and-pexpire: extend KEYS[1] by ARGV[2] ms when it holds ARGV[1]; 0 otherwise.
    private const string Script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

    private readonly IDatabase _db;
    private readonly byte[] _sha;
    private readonly RedisKey[] _keys;
    private readonly RedisValue[] _args = ["token", 30_000];

    private RawEvalsha(IDatabase db, byte[] sha, string prefix, int keys)
    {
        _db = db;
        _sha = sha;
        _keys = [.. Enumerable.Range(0, keys).Select(i => (RedisKey)$"{prefix}:raw:{i}")];
    }

    public static async Task<RawEvalsha> CreateAsync(IConnectionMultiplexer redis, string prefix, int keys)
    {
        var server = redis.GetServers()[0];
        var sha = await server.ScriptLoadAsync(Script).ConfigureAwait(false);
        return new RawEvalsha(redis.GetDatabase(), sha, prefix, keys);
    }

    /// <summary>One EVALSHA on the key of <paramref name="slot"/>.</summary>
    public Task<RedisResult> CallAsync(int slot) =>
        _db.ScriptEvaluateAsync(_sha, [_keys[slot % _keys.Length]], _args);

    /// <summary>Two EVALSHA calls, one after the other.</summary>
    public async ValueTask PairAsync(int slot)
    {
        await CallAsync(slot).ConfigureAwait(false);
        await CallAsync(slot).ConfigureAwait(false);
    }
}
