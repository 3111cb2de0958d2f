namespace Leasing.Redis.Internal;

/// <summary>
/// The Lua scripts of <see cref="RedisIdempotencyStore"/>: claim, heartbeat, complete and release
/// each classify the record and write it in one atomic step on the server's clock (µs).
/// </summary>
/// <remarks>
/// One hash per key (KEYS[1]): s = status (p in progress, s succeeded, f failed, r released),
/// fp = fingerprint, o = owner token (in progress only), e = lease end (in progress), record end
/// (completed) or release time (released), r = result payload (completed only), a = attempt,
/// f = fencing token. The hash expires with the record: a completed one at the end of its
/// retention, an unfinished one a day after its claim ended. A deleted record loses its fencing
/// counter; the clock term of the fencing rule still puts the next token above it.
/// Scripts reply with the record as {code, status, fingerprint, end, has result, result, attempt, fencing}.
/// </remarks>
internal static class IdempotencyScripts
{
    private const string Prelude = RedisScript.Clock + RedisScript.Format + """
        local function expire_at(micros) redis.call('PEXPIREAT', KEYS[1], fmt(math.ceil(micros / 1000))) end
        local day = 86400000000

        """;

    /// <summary>
    /// Claims a key that is absent, released or whose lease ran out; else reports it.
    /// ARGV: fingerprint, lease µs, token. Replies {code, record...}: code 'claimed', 'progress', 'completed' or 'mismatch'.
    /// </summary>
    public static readonly RedisScript Claim = new(Prelude + """
        local s = redis.call('HMGET', KEYS[1], 's', 'fp', 'e', 'r', 'a', 'f')
        local attempt = 1
        if s[1] then
          local function report(code)
            return {code, s[1], s[2], tonumber(s[3]), s[4] and 1 or 0, s[4] or '', tonumber(s[5]), tonumber(s[6])}
          end
          if s[2] ~= ARGV[1] then return report('mismatch') end
          if s[1] == 's' or s[1] == 'f' then return report('completed') end
          if s[1] == 'p' and tonumber(s[3]) > now then return report('progress') end
          attempt = tonumber(s[5]) + 1
        end
        local f = math.max((tonumber(s[6]) or 0) + 1, now)
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 's', 'p', 'fp', ARGV[1], 'o', ARGV[3], 'e', fmt(e), 'a', attempt, 'f', fmt(f))
        redis.call('HDEL', KEYS[1], 'r')
        expire_at(e + day)
        return {'claimed', 'p', ARGV[1], e, 0, '', attempt, f}
        """);

    /// <summary>Extends the owner's unexpired claim. ARGV: token, lease µs. Returns 1, or 0 (nothing changed).</summary>
    public static readonly RedisScript Heartbeat = new(Prelude + """
        local s = redis.call('HMGET', KEYS[1], 's', 'o', 'e')
        if s[1] ~= 'p' or s[2] ~= ARGV[1] or tonumber(s[3]) <= now then return 0 end
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'e', fmt(e))
        expire_at(e + day)
        return 1
        """);

    /// <summary>
    /// Stores the outcome of the owner's claim (also just past its lease, if nobody reclaimed the key)
    /// and announces it. ARGV: token, status (s or f), payload, retention µs, channel. Returns 1 or 0.
    /// </summary>
    public static readonly RedisScript Complete = new(Prelude + """
        local s = redis.call('HMGET', KEYS[1], 's', 'o')
        if s[1] ~= 'p' or s[2] ~= ARGV[1] then return 0 end
        local e = now + tonumber(ARGV[4])
        redis.call('HSET', KEYS[1], 's', ARGV[2], 'r', ARGV[3], 'e', fmt(e))
        redis.call('HDEL', KEYS[1], 'o')
        expire_at(e)
        redis.call('PUBLISH', ARGV[5], 'completed')
        return 1
        """);

    /// <summary>Gives the owner's claim up (claimable again at once) and announces it. ARGV: token, channel. Returns 1 or 0.</summary>
    public static readonly RedisScript Release = new(Prelude + """
        local s = redis.call('HMGET', KEYS[1], 's', 'o')
        if s[1] ~= 'p' or s[2] ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 's', 'r', 'e', fmt(now))
        redis.call('HDEL', KEYS[1], 'o')
        expire_at(now + day)
        redis.call('PUBLISH', ARGV[2], 'released')
        return 1
        """);

    /// <summary>Reads a record. Replies {'record', record...} or nil.</summary>
    public static readonly RedisScript Get = new("""
        local s = redis.call('HMGET', KEYS[1], 's', 'fp', 'e', 'r', 'a', 'f')
        if not s[1] then return false end
        return {'record', s[1], s[2], tonumber(s[3]), s[4] and 1 or 0, s[4] or '', tonumber(s[5]), tonumber(s[6])}
        """);

    /// <summary>Deletes a record whatever its state and announces it. ARGV: channel. Returns 1, or 0 when there was none.</summary>
    public static readonly RedisScript Evict = new("""
        if redis.call('DEL', KEYS[1]) == 0 then return 0 end
        redis.call('PUBLISH', ARGV[1], 'evicted')
        return 1
        """);
}
