namespace Leasing.Redis.Internal;

/// <summary>
/// The Lua scripts of <see cref="RedisLeaseStore"/>: each operation is one script, run atomically on
/// the server's clock (<c>TIME</c>, in microseconds). Times are microseconds since the Unix epoch;
/// numbers are written with <c>%.0f</c> so that 16-digit values never turn into exponent notation.
/// </summary>
/// <remarks>
/// Single key (KEYS[1], a hash): f = last fencing token, l = last acquisition, e = end of the lease
/// or cooldown (0: free), t = owner token ('' while cooling or free). The hash is kept for a day
/// after its lease or cooldown ends; by then the clock term of the fencing rule has passed its
/// fencing token, so dropping it cannot make a token go back.
/// Pool (KEYS = meta, free, busy, members, state; see <see cref="PoolKeyNames"/>): a member is in
/// at most one of free and busy. Held: in busy with a future score and a token in its state;
/// cooling: in busy with a future score and an empty token; free otherwise. Expired entries of
/// busy are taken back lazily by acquire. State is never deleted, so fencing counters survive
/// release, expiry and removal from the pool.
/// </remarks>
internal static class LeaseScripts
{
    /// <summary>Retention of a single key's hash after its lease or cooldown ends, in milliseconds.</summary>
    public const long SingleKeyRetentionMs = 86_400_000;

    private const string Now = """
        local function fmt(n) return string.format('%.0f', n) end
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

        """;

    private const string Single = Now + """
        local function keep(e) redis.call('PEXPIREAT', KEYS[1], fmt(math.floor(e / 1000) + 86400000)) end

        """;

    private const string Pool = Now + """
        local function load(m)
          local v = redis.call('HGET', KEYS[5], m)
          if not v then return 0, 0, 0, '', false end
          local f, q, l, tok = string.match(v, '^([^:]*):([^:]*):([^:]*):(.*)$')
          return tonumber(f), tonumber(q), tonumber(l), tok, true
        end
        local function save(m, f, q, l, tok)
          redis.call('HSET', KEYS[5], m, fmt(f) .. ':' .. fmt(q) .. ':' .. fmt(l) .. ':' .. tok)
        end
        local function claim(m, ttl, tok)
          local f = load(m)
          local q = redis.call('HINCRBY', KEYS[1], 'seq', 1)
          local nf = math.max(f + 1, now)
          local e = now + ttl
          save(m, nf, q, now, tok)
          redis.call('ZADD', KEYS[3], fmt(e), m)
          return {m, nf, e}
        end
        local function free(m, q)
          if redis.call('HEXISTS', KEYS[4], m) == 1 then
            if not q then
              local f
              f, q = load(m)
            end
            redis.call('ZADD', KEYS[2], fmt(q), m)
            return true
          end
          return false
        end

        """;

    /// <summary>Acquires a free single key. ARGV: token, ttl µs. Returns {fencing, expiresAt} or nil when held or cooling.</summary>
    public static readonly RedisScript SingleAcquire = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 'f', 'e')
        if s[2] and tonumber(s[2]) > now then return false end
        local f = math.max((tonumber(s[1]) or 0) + 1, now)
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'f', fmt(f), 'l', fmt(now), 'e', fmt(e), 't', ARGV[1])
        keep(e)
        return {f, e}
        """);

    /// <summary>Extends a live lease on its token. ARGV: token, ttl µs. Returns the new expiresAt, or nil when not ours.</summary>
    public static readonly RedisScript SingleRenew = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e')
        if s[1] ~= ARGV[1] or not s[2] or tonumber(s[2]) <= now then return false end
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'e', fmt(e))
        keep(e)
        return e
        """);

    /// <summary>Frees a live lease on its token. ARGV: token. Returns 1, or 0 when not ours (nothing changed).</summary>
    public static readonly RedisScript SingleRelease = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e')
        if s[1] ~= ARGV[1] or not s[2] or tonumber(s[2]) <= now then return 0 end
        redis.call('HSET', KEYS[1], 't', '', 'e', '0')
        keep(now)
        return 1
        """);

    /// <summary>Cools a key down when it is our live lease or free. ARGV: token, cooldown µs. Returns 1, or 0 when someone else holds it or it cools already.</summary>
    public static readonly RedisScript SingleCooldown = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e')
        if s[2] and tonumber(s[2]) > now and s[1] ~= ARGV[1] then return 0 end
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 't', '', 'e', fmt(e))
        keep(e)
        return 1
        """);

    /// <summary>Frees a held or cooling key whoever holds it. Returns 1, or 0 when it was free.</summary>
    public static readonly RedisScript SingleForceRelease = new(Single + """
        local e = redis.call('HGET', KEYS[1], 'e')
        if not e or tonumber(e) <= now then return 0 end
        redis.call('HSET', KEYS[1], 't', '', 'e', '0')
        keep(now)
        return 1
        """);

    /// <summary>Reads single keys. Returns {now, then per key: fencing, lastAcquired, end, held (1/0)}.</summary>
    public static readonly RedisScript SingleInspect = new(Now + """
        local out = {now}
        for i = 1, #KEYS do
          local s = redis.call('HMGET', KEYS[i], 'f', 'l', 'e', 't')
          out[#out + 1] = tonumber(s[1]) or 0
          out[#out + 1] = tonumber(s[2]) or 0
          out[#out + 1] = tonumber(s[3]) or 0
          out[#out + 1] = (s[4] and s[4] ~= '') and 1 or 0
        end
        return out
        """);

    // The members-version check of the pool acquires, before anything is written. ARGV[n] is the
    // caller's version, -1 for no check (the unversioned overloads; then no extra read). A pool
    // without a stored version is unknown to this server (its data was lost): answer '' then.
    private const string VersionCheck = """
        local function outdated(n)
          local want = tonumber(ARGV[n])
          if want < 0 then return false end
          local v = redis.call('HGET', KEYS[1], 'version')
          if v and tonumber(v) >= want then return false end
          return v or ''
        end

        """;

    /// <summary>
    /// Checks the members version, takes back a few expired holds, then pops the least recently
    /// acquired free member and claims it. ARGV: token, ttl µs, members version (-1: no check).
    /// Returns {member, fencing, expiresAt}, nil when none is free, or the stored version as a
    /// string ('' when the pool is unknown) when it is older than ARGV[3]; nothing is written then.
    /// </summary>
    public static readonly RedisScript PoolAcquireLeastRecentlyUsed = new(Pool + VersionCheck + """
        local stale = outdated(3)
        if stale then return stale end
        local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', fmt(now), 'LIMIT', 0, 16)
        if #gone > 0 then
          redis.call('ZREM', KEYS[3], unpack(gone))
          for i = 1, #gone do free(gone[i]) end
        end
        local head = redis.call('ZPOPMIN', KEYS[2])
        if #head == 0 then return false end
        return claim(head[1], tonumber(ARGV[2]), ARGV[1])
        """);

    /// <summary>
    /// Checks the members version, then claims one named current member when free. ARGV: token,
    /// ttl µs, member, members version (-1: no check). Returns as <see cref="PoolAcquireLeastRecentlyUsed"/>.
    /// </summary>
    public static readonly RedisScript PoolAcquireMember = new(Pool + VersionCheck + """
        local stale = outdated(4)
        if stale then return stale end
        local m = ARGV[3]
        if redis.call('HEXISTS', KEYS[4], m) == 0 then return false end
        local b = redis.call('ZSCORE', KEYS[3], m)
        if b then
          if tonumber(b) > now then return false end
          redis.call('ZREM', KEYS[3], m)
        else
          redis.call('ZREM', KEYS[2], m)
        end
        return claim(m, tonumber(ARGV[2]), ARGV[1])
        """);

    /// <summary>Extends a member's live lease on its token (also a removed member's). ARGV: token, ttl µs, member. Returns expiresAt or nil.</summary>
    public static readonly RedisScript PoolRenew = new(Pool + """
        local m = ARGV[3]
        local f, q, l, tok = load(m)
        local b = redis.call('ZSCORE', KEYS[3], m)
        if tok ~= ARGV[1] or not b or tonumber(b) <= now then return false end
        local e = now + tonumber(ARGV[2])
        redis.call('ZADD', KEYS[3], 'XX', fmt(e), m)
        return e
        """);

    /// <summary>
    /// Frees a member's live lease on its token; a current member goes back to the free index at
    /// its old position and one release message is published. ARGV: token, member, channel. Returns 1 or 0.
    /// </summary>
    public static readonly RedisScript PoolRelease = new(Pool + """
        local m = ARGV[2]
        local f, q, l, tok = load(m)
        local b = redis.call('ZSCORE', KEYS[3], m)
        if tok ~= ARGV[1] or not b or tonumber(b) <= now then return 0 end
        redis.call('ZREM', KEYS[3], m)
        if free(m, q) then redis.call('PUBLISH', ARGV[3], m) end
        return 1
        """);

    /// <summary>
    /// Cools a member down when it is our live lease or free (and known). The token dies; when the
    /// cooldown ends the member returns at its old position. ARGV: token, cooldown µs, member. Returns 1 or 0.
    /// </summary>
    public static readonly RedisScript PoolCooldown = new(Pool + """
        local m = ARGV[3]
        local f, q, l, tok, known = load(m)
        local b = redis.call('ZSCORE', KEYS[3], m)
        if b and tonumber(b) > now then
          if tok ~= ARGV[1] then return 0 end
        else
          if not known and redis.call('HEXISTS', KEYS[4], m) == 0 then return 0 end
          redis.call('ZREM', KEYS[2], m)
        end
        save(m, f, q, l, '')
        redis.call('ZADD', KEYS[3], fmt(now + tonumber(ARGV[2])), m)
        return 1
        """);

    /// <summary>Frees a held or cooling member whoever holds it; publishes when it became free. ARGV: member, channel. Returns 1 or 0.</summary>
    public static readonly RedisScript PoolForceRelease = new(Pool + """
        local m = ARGV[1]
        local b = redis.call('ZSCORE', KEYS[3], m)
        if not b or tonumber(b) <= now then return 0 end
        redis.call('ZREM', KEYS[3], m)
        local f, q, l = load(m)
        save(m, f, q, l, '')
        if free(m, q) then redis.call('PUBLISH', ARGV[2], m) end
        return 1
        """);

    /// <summary>Reads a pool. Returns {now, current members, state hash as field/value pairs, busy as member/score pairs}.</summary>
    public static readonly RedisScript PoolInspect = new(Now + """
        return {now, redis.call('HKEYS', KEYS[4]), redis.call('HGETALL', KEYS[5]), redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')}
        """);

    /// <summary>Reads the current members of a pool.</summary>
    public static readonly RedisScript PoolMembers = new("""
        return redis.call('HKEYS', KEYS[4])
        """);

    private const string Sweep = """
        local function sweep(gen, cursor)
          local r = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', 1000)
          local items = r[2]
          local g = fmt(gen)
          for i = 1, #items, 2 do
            if items[i + 1] ~= g then
              redis.call('HDEL', KEYS[4], items[i])
              redis.call('ZREM', KEYS[2], items[i])
            end
          end
          return {gen, r[1]}
        end

        """;

    /// <summary>
    /// Adds one chunk (at most 1,000) of a member list. ARGV: version, generation (0: begin a new
    /// list, checking the version), sweep (1: last chunk, start removing members of older lists), members...
    /// Returns {generation, sweep cursor}; generation 0 when the version is older than the stored
    /// one (ignored), -1 when a newer list began meanwhile (this one is superseded).
    /// </summary>
    public static readonly RedisScript PoolMembersAdd = new(Pool + Sweep + """
        local gen
        if ARGV[2] == '0' then
          local v = redis.call('HGET', KEYS[1], 'version')
          if v and tonumber(ARGV[1]) < tonumber(v) then return {0, '0'} end
          gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
          redis.call('HSET', KEYS[1], 'version', ARGV[1])
        else
          gen = tonumber(ARGV[2])
          if tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') ~= gen then return {-1, '0'} end
        end
        local g = fmt(gen)
        for i = 4, #ARGV do
          local m = ARGV[i]
          if redis.call('HSET', KEYS[4], m, g) == 1 and not redis.call('ZSCORE', KEYS[3], m) then
            local f, q = load(m)
            redis.call('ZADD', KEYS[2], fmt(q), m)
          end
        end
        if ARGV[3] == '1' then return sweep(gen, '0') end
        return {gen, '0'}
        """);

    /// <summary>Removes members that the current list (generation) did not write, one HSCAN step. ARGV: generation, cursor. Returns {generation or -1, next cursor}.</summary>
    public static readonly RedisScript PoolMembersSweep = new(Now + Sweep + """
        local gen = tonumber(ARGV[1])
        if tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') ~= gen then return {-1, '0'} end
        return sweep(gen, ARGV[2])
        """);
}
