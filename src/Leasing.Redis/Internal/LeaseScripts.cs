namespace Leasing.Redis.Internal;

/// <summary>
/// The Lua scripts of <see cref="RedisLeaseStore"/>: each operation is one script, run atomically on
/// the server's clock (<c>TIME</c>, in microseconds). Times are microseconds since the Unix epoch;
/// the single-key scripts write numbers with <c>%.0f</c> so that 16-digit values never turn into
/// exponent notation; the pool scripts pass Lua numbers to Redis, which writes them as integers.
/// </summary>
/// <remarks>
/// Single key (KEYS[1], a hash): f = last fencing token, l = last acquisition, e = end of the lease
/// or cooldown (0: free), t = owner token ('' while cooling or free). The hash is kept for a day
/// after its lease or cooldown ends; by then the clock term of the fencing rule has passed its
/// fencing token, so dropping it cannot make a token go back.
/// Pool (KEYS = meta, queue, members; see <see cref="PoolKeyNames"/> and the comment above the
/// pool scripts): held: in queue with a future end and its token in meta; cooling: in queue with
/// a future end and an empty token; free otherwise. Expired entries are taken back lazily by
/// acquire. Member fields are never deleted except the membership mark, and the pool's last
/// fencing token bounds every member's, so fencing tokens survive release, expiry and removal
/// from the pool.
/// </remarks>
internal static class LeaseScripts
{
    /// <summary>Retention of a single key's hash after its lease or cooldown ends, in milliseconds.</summary>
    public const long SingleKeyRetentionMs = 86_400_000;

    private const string Now = RedisScript.Clock + RedisScript.Format;

    // keep: a hash with fenced state never expires (sf, read by each script's HMGET, is set); any
    // other is kept for SingleKeyRetentionMs after e.
    private static readonly string Single = Now + $$"""
        local function keep(e, sf)
          if not sf then redis.call('PEXPIREAT', KEYS[1], fmt(math.floor(e / 1000) + {{SingleKeyRetentionMs}})) end
        end

        """;

    /// <summary>Acquires a free single key. ARGV: token, ttl µs. Returns {fencing, expiresAt} or nil when held or cooling.</summary>
    public static readonly RedisScript SingleAcquire = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 'f', 'e', 'sf')
        if s[2] and tonumber(s[2]) > now then return false end
        local f = math.max((tonumber(s[1]) or 0) + 1, now)
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'f', fmt(f), 'l', fmt(now), 'e', fmt(e), 't', ARGV[1])
        keep(e, s[3])
        return {f, e}
        """);

    /// <summary>Extends a live lease on its token. ARGV: token, ttl µs. Returns the new expiresAt, or nil when not ours.</summary>
    public static readonly RedisScript SingleRenew = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e', 'sf')
        if s[1] ~= ARGV[1] or not s[2] or tonumber(s[2]) <= now then return false end
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'e', fmt(e))
        keep(e, s[3])
        return e
        """);

    /// <summary>Frees a live lease on its token. ARGV: token. Returns 1, or 0 when not ours (nothing changed).</summary>
    public static readonly RedisScript SingleRelease = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e', 'sf')
        if s[1] ~= ARGV[1] or not s[2] or tonumber(s[2]) <= now then return 0 end
        redis.call('HSET', KEYS[1], 't', '', 'e', '0')
        keep(now, s[3])
        return 1
        """);

    /// <summary>Cools a key down when it is our live lease or free. ARGV: token, cooldown µs. Returns 1, or 0 when someone else holds it or it cools already.</summary>
    public static readonly RedisScript SingleCooldown = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e', 'sf')
        if s[2] and tonumber(s[2]) > now and s[1] ~= ARGV[1] then return 0 end
        local e = now + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 't', '', 'e', fmt(e))
        keep(e, s[3])
        return 1
        """);

    /// <summary>Frees a held or cooling key whoever holds it. Returns 1, or 0 when it was free.</summary>
    public static readonly RedisScript SingleForceRelease = new(Single + """
        local s = redis.call('HMGET', KEYS[1], 'e', 'sf')
        if not s[1] or tonumber(s[1]) <= now then return 0 end
        redis.call('HSET', KEYS[1], 't', '', 'e', '0')
        keep(now, s[2])
        return 1
        """);

    /// <summary>
    /// Stores the fenced state of a key under a live lease on its token: sd = bytes, sf = the lease's fencing
    /// token, sw = now; the hash no longer expires. ARGV: token, bytes. Returns 1, or 0 when not ours (nothing changed).
    /// </summary>
    public static readonly RedisScript SingleWriteState = new(Now + """
        local s = redis.call('HMGET', KEYS[1], 't', 'e', 'f')
        if s[1] ~= ARGV[1] or not s[2] or tonumber(s[2]) <= now then return 0 end
        redis.call('HSET', KEYS[1], 'sd', ARGV[2], 'sf', s[3], 'sw', fmt(now))
        redis.call('PERSIST', KEYS[1])
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

    // Pool scripts. KEYS: meta (hash), queue (sorted set), members (hash), state (hash).
    // meta holds the pool's fields and each member's, so that one HMGET reads and one HSET writes
    // what a script needs. Pool fields: version (members version), gen (membership generation),
    // seq (the last fencing token issued in the pool), next (a lower bound on the ends of holds and
    // cooldowns: acquire looks for expired ones only once now has reached it; absent: look).
    // Member fields, named by a letter and ':' before the id (so no id can reach a pool field or
    // another member's): f:ID = last fencing token, t:ID = owner token ('' or stale when not held:
    // queue decides whether a lease is live), g:ID = membership generation (present exactly while
    // the member is current; members holds the same, for listing and sweeping).
    // queue holds every current member and every removed one still held or cooling, in one order:
    // a free member is scored below zero by its last fencing token (f - 2^52; 0 if never acquired),
    // a held or cooling one by the end of its lease or cooldown (µs, above zero). So the first entry
    // is the least recently acquired free member, "live" is score > now, and a claim, a release or
    // a take-back is one ZADD. Fencing tokens are max(f + 1, seq + 1, now): they grow per member and
    // across the pool, which makes them the LRU position too; the last acquisition time reported is
    // that token. Numbers go to Redis as Lua numbers, which Redis writes as integers below 2^53.
    private const string PoolHead = RedisScript.Clock + """
        local meta, queue, members, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
        local FREE = 4503599627370496
        -- Ends a member's hold: a current member (g set) goes back to its old position (by its last
        -- fencing token f) and, when a channel is given, one release message goes to it; a removed one
        -- leaves the queue.
        local function give_back(m, g, f, channel)
          if g then
            redis.call('ZADD', queue, (tonumber(f) or 0) - FREE, m)
            if channel then redis.call('PUBLISH', channel, m) end
          else
            redis.call('ZREM', queue, m)
          end
          return 1
        end
        -- The fields {t, g, f} of member m when tok holds its live lease; nil otherwise.
        local function held_by(m, tok)
          local b = redis.call('ZSCORE', queue, m)
          if not b or tonumber(b) <= now then return nil end
          local r = redis.call('HMGET', meta, 't:' .. m, 'g:' .. m, 'f:' .. m)
          if r[1] ~= tok then return nil end
          return r
        end

        """;

    // The acquires: the members-version check (before anything is written; want -1 = no check; a
    // pool without a stored version is unknown to this server, its data was lost: answer ''), the
    // lazy take-back of expired entries, and the claim.
    private const string PoolAcquire = PoolHead + """
        local NONE = 9007199254740992
        local function outdated(v, want)
          want = tonumber(want)
          if want < 0 or (v and tonumber(v) >= want) then return false end
          return v or ''
        end
        -- Takes back up to 16 expired holds and cooldowns (a current member returns to its old
        -- position, a removed one leaves) and returns the new bound: the earliest end left, 0 when
        -- more expired entries wait, NONE when nothing is held or cooling.
        local function reclaim()
          local r = redis.call('ZRANGEBYSCORE', queue, 0, '+inf', 'WITHSCORES', 'LIMIT', 0, 16)
          local gone, fields, bound = {}, {}, NONE
          for i = 1, #r, 2 do
            local e = tonumber(r[i + 1])
            if e > now then bound = e break end
            gone[#gone + 1] = r[i]
            fields[#fields + 1] = 'g:' .. r[i]
            fields[#fields + 1] = 'f:' .. r[i]
          end
          if #gone == 0 then return bound end
          if #gone == 16 then bound = 0 end
          local s = redis.call('HMGET', meta, unpack(fields))
          local back, out = {}, {}
          for i = 1, #gone do
            if s[2 * i - 1] then
              back[#back + 1] = (tonumber(s[2 * i]) or 0) - FREE
              back[#back + 1] = gone[i]
            else
              out[#out + 1] = gone[i]
            end
          end
          if #back > 0 then redis.call('ZADD', queue, unpack(back)) end
          if #out > 0 then redis.call('ZREM', queue, unpack(out)) end
          return bound
        end
        -- Claims member m (free, or its hold or cooldown ended): f = its last fencing token,
        -- seq = the pool's, stored/bound = the stored and the current lower bound of the ends.
        local function claim(m, f, seq, stored, bound, ttl, tok)
          local nf = math.max(f + 1, seq + 1, now)
          local e = now + ttl
          if e < bound then bound = e end
          if bound ~= stored then
            redis.call('HSET', meta, 'seq', nf, 'f:' .. m, nf, 't:' .. m, tok, 'next', bound)
          else
            redis.call('HSET', meta, 'seq', nf, 'f:' .. m, nf, 't:' .. m, tok)
          end
          redis.call('ZADD', queue, e, m)
          return {m, nf, e}
        end
        -- Takes back expired holds when one may have ended (16 a round, as many rounds as n claims may
        -- need), then claims up to n least recently acquired free members, in LRU order, for the owner
        -- tokens ARGV[first], ARGV[first + 1], ...; s = the pool's {version, seq, next}. Fencing tokens grow
        -- along the claims as across single ones (each max(f + 1, seq + 1, now), seq the previous claim's);
        -- one HSET and one ZADD for all of them. Returns {member, fencing, expiresAt, ...} for the claims
        -- made, empty when none is free (the new bound is stored then).
        local function claim_lru(s, n, ttl, first)
          local stored = tonumber(s[3]) or 0
          local bound = stored
          if now >= bound then
            bound = reclaim()
            local rounds = 1
            while bound == 0 and rounds * 16 < n do
              bound = reclaim()
              rounds = rounds + 1
            end
          end
          local head = redis.call('ZRANGE', queue, 0, n - 1, 'WITHSCORES')
          local seq = tonumber(s[2]) or 0
          local e = now + ttl
          local fields, scores, out = {'seq', 0}, {}, {}
          for i = 1, #head, 2 do
            local score = tonumber(head[i + 1])
            if score >= 0 then break end
            local m = head[i]
            local nf = math.max(score + FREE + 1, seq + 1, now)
            seq = nf
            fields[#fields + 1] = 'f:' .. m
            fields[#fields + 1] = nf
            fields[#fields + 1] = 't:' .. m
            fields[#fields + 1] = ARGV[first + #out / 3]
            scores[#scores + 1] = e
            scores[#scores + 1] = m
            out[#out + 1] = m
            out[#out + 1] = nf
            out[#out + 1] = e
          end
          if #out == 0 then
            if bound ~= stored then redis.call('HSET', meta, 'next', bound) end
            return out
          end
          fields[2] = seq
          if e < bound then bound = e end
          if bound ~= stored then
            fields[#fields + 1] = 'next'
            fields[#fields + 1] = bound
          end
          redis.call('HSET', meta, unpack(fields))
          redis.call('ZADD', queue, unpack(scores))
          return out
        end

        """;

    /// <summary>
    /// Checks the members version, takes back expired holds when one may have ended, then claims
    /// the least recently acquired free member. ARGV: token, ttl µs, members version (-1: no check).
    /// Returns {member, fencing, expiresAt}, nil when none is free, or the stored version as a
    /// string ('' when the pool is unknown) when it is older than ARGV[3]; nothing is written then.
    /// </summary>
    public static readonly RedisScript PoolAcquireLeastRecentlyUsed = new(PoolAcquire + """
        local s = redis.call('HMGET', meta, 'version', 'seq', 'next')
        local stale = outdated(s[1], ARGV[3])
        if stale then return stale end
        local c = claim_lru(s, 1, tonumber(ARGV[2]), 1)
        if #c == 0 then return false end
        return c
        """);

    /// <summary>
    /// Checks the members version, takes back expired holds when one may have ended (16 a round, as many
    /// rounds as the batch may need), then claims up to one least recently acquired free member per token, in LRU order: the first token gets the least recently
    /// acquired member. Fencing tokens grow along the batch as across single claims (each claim's is
    /// max(f + 1, seq + 1, now) with seq the previous claim's). One HSET and one ZADD for the whole batch.
    /// ARGV: ttl µs, members version (-1: no check), token... Returns {member, fencing, expiresAt, ...} for
    /// the claims made (empty when none is free), or the stored version as a string ('' when the pool is
    /// unknown) when it is older than ARGV[2]; nothing is written then.
    /// </summary>
    public static readonly RedisScript PoolAcquireLeastRecentlyUsedMany = new(PoolAcquire + """
        local s = redis.call('HMGET', meta, 'version', 'seq', 'next')
        local stale = outdated(s[1], ARGV[2])
        if stale then return stale end
        return claim_lru(s, #ARGV - 2, tonumber(ARGV[1]), 3)
        """);

    /// <summary>
    /// Releases a member's live lease on its token and claims the least recently acquired free member for
    /// the next holder, in one step (the released member goes back to its old position first, so it may be
    /// the one claimed). A release message only when another member was claimed (the released one is then
    /// free for others); else the channel goes to a caller waiting in the releasing process.
    /// ARGV: token, new token, ttl µs, member, members version (-1: no check), channel. Returns 0 when the
    /// lease was not ours (nothing changed); else {1} (released, none free), {1, member, fencing, expiresAt},
    /// or {1, '', stored version or ''} when the member list is outdated (released with a release message,
    /// nothing claimed).
    /// </summary>
    public static readonly RedisScript PoolReleaseAndAcquire = new(PoolAcquire + """
        local m = ARGV[4]
        local r = held_by(m, ARGV[1])
        if not r then return 0 end
        local s = redis.call('HMGET', meta, 'version', 'seq', 'next')
        local stale = outdated(s[1], ARGV[5])
        if stale then
          give_back(m, r[2], r[3], ARGV[6])
          return {1, '', stale}
        end
        give_back(m, r[2], r[3], nil)
        local c = claim_lru(s, 1, tonumber(ARGV[3]), 2)
        if #c == 0 then return {1} end
        -- Another member was claimed: the released one is free now, so other processes' waiters may take it.
        if c[1] ~= m and r[2] then redis.call('PUBLISH', ARGV[6], m) end
        return {1, c[1], c[2], c[3]}
        """);

    /// <summary>
    /// Checks the members version, then claims one named current member when free. ARGV: token,
    /// ttl µs, member, members version (-1: no check). Returns as <see cref="PoolAcquireLeastRecentlyUsed"/>.
    /// </summary>
    public static readonly RedisScript PoolAcquireMember = new(PoolAcquire + """
        local m = ARGV[3]
        local s = redis.call('HMGET', meta, 'version', 'seq', 'next', 'g:' .. m, 'f:' .. m)
        local stale = outdated(s[1], ARGV[4])
        if stale then return stale end
        if not s[4] then return false end
        local b = redis.call('ZSCORE', queue, m)
        if b and tonumber(b) > now then return false end
        local stored = tonumber(s[3]) or 0
        return claim(m, tonumber(s[5]) or 0, tonumber(s[2]) or 0, stored, stored, tonumber(ARGV[2]), ARGV[1])
        """);

    /// <summary>Extends a member's live lease on its token (also a removed member's). ARGV: token, ttl µs, member. Returns expiresAt or nil.</summary>
    public static readonly RedisScript PoolRenew = new(PoolHead + """
        local m = ARGV[3]
        local b = redis.call('ZSCORE', queue, m)
        if not b or tonumber(b) <= now then return false end
        local s = redis.call('HMGET', meta, 't:' .. m, 'next')
        if s[1] ~= ARGV[1] then return false end
        local e = now + tonumber(ARGV[2])
        redis.call('ZADD', queue, e, m)
        if e < (tonumber(s[2]) or 0) then redis.call('HSET', meta, 'next', e) end -- a shorter ttl can end it sooner
        return e
        """);

    /// <summary>
    /// Frees a member's live lease on its token; a current member goes back to its old position
    /// and one release message is published. ARGV: token, member, channel. Returns 1 or 0.
    /// </summary>
    public static readonly RedisScript PoolRelease = new(PoolHead + """
        local m = ARGV[2]
        local s = held_by(m, ARGV[1])
        if not s then return 0 end
        return give_back(m, s[2], s[3], ARGV[3])
        """);

    /// <summary>
    /// Frees several members' live leases, each on its token, as <see cref="PoolRelease"/> does one by one (one
    /// HMGET for all of them, one ZADD for the members that go back, one release message per member freed; a
    /// member released earlier in the same call is no longer held for a later entry). ARGV: channel, then token
    /// and member per release. Returns 1 or 0 per release, in order.
    /// </summary>
    public static readonly RedisScript PoolReleaseMany = new(PoolHead + """
        local fields = {}
        for i = 2, #ARGV, 2 do
          local m = ARGV[i + 1]
          fields[#fields + 1] = 't:' .. m
          fields[#fields + 1] = 'g:' .. m
          fields[#fields + 1] = 'f:' .. m
        end
        local r = redis.call('HMGET', meta, unpack(fields))
        local out, back, gone, done = {}, {}, {}, {}
        for i = 2, #ARGV, 2 do
          local m, at = ARGV[i + 1], (i - 2) / 2 * 3
          local b = not done[m] and redis.call('ZSCORE', queue, m)
          if b and tonumber(b) > now and r[at + 1] == ARGV[i] then
            done[m] = true
            out[#out + 1] = 1
            if r[at + 2] then
              back[#back + 1] = (tonumber(r[at + 3]) or 0) - FREE
              back[#back + 1] = m
              redis.call('PUBLISH', ARGV[1], m)
            else
              gone[#gone + 1] = m
            end
          else
            out[#out + 1] = 0
          end
        end
        if #back > 0 then redis.call('ZADD', queue, unpack(back)) end
        if #gone > 0 then redis.call('ZREM', queue, unpack(gone)) end
        return out
        """);

    /// <summary>
    /// Cools a member down when it is our live lease or free (and current or ever acquired). The
    /// token dies; when the cooldown ends the member returns at its old position. ARGV: token,
    /// cooldown µs, member. Returns 1 or 0.
    /// </summary>
    public static readonly RedisScript PoolCooldown = new(PoolHead + """
        local m = ARGV[3]
        local s = redis.call('HMGET', meta, 't:' .. m, 'g:' .. m, 'f:' .. m, 'next')
        local b = redis.call('ZSCORE', queue, m)
        if b and tonumber(b) > now then
          if s[1] ~= ARGV[1] then return 0 end
        elseif not s[2] and not s[3] then
          return 0
        end
        local e = now + tonumber(ARGV[2])
        if e < (tonumber(s[4]) or 0) then
          redis.call('HSET', meta, 't:' .. m, '', 'next', e)
        else
          redis.call('HSET', meta, 't:' .. m, '')
        end
        redis.call('ZADD', queue, e, m)
        return 1
        """);

    /// <summary>
    /// Stores a current member's fenced state under its live lease, on its token: d:ID = bytes, f:ID = the
    /// lease's fencing token, w:ID = now. ARGV: token, member, bytes. Returns 1, or 0 when not ours or no
    /// longer a member (nothing changed).
    /// </summary>
    public static readonly RedisScript PoolWriteState = new(PoolHead + """
        local m = ARGV[2]
        local s = held_by(m, ARGV[1])
        if not s or not s[2] then return 0 end
        redis.call('HSET', state, 'd:' .. m, ARGV[3], 'f:' .. m, s[3], 'w:' .. m, now)
        return 1
        """);

    /// <summary>Frees a held or cooling member whoever holds it; publishes when it became free. ARGV: member, channel. Returns 1 or 0.</summary>
    public static readonly RedisScript PoolForceRelease = new(PoolHead + """
        local m = ARGV[1]
        local b = redis.call('ZSCORE', queue, m)
        if not b or tonumber(b) <= now then return 0 end
        local s = redis.call('HMGET', meta, 'g:' .. m, 'f:' .. m)
        return give_back(m, s[1], s[2], ARGV[2])
        """);

    /// <summary>Reads a pool. Returns {now, current members, meta as field/value pairs, held and cooling members as member/end pairs}.</summary>
    public static readonly RedisScript PoolInspect = new(PoolHead + """
        return {now, redis.call('HKEYS', members), redis.call('HGETALL', meta), redis.call('ZRANGEBYSCORE', queue, 0, '+inf', 'WITHSCORES')}
        """);

    /// <summary>Reads the current members of a pool.</summary>
    public static readonly RedisScript PoolMembers = new("""
        return redis.call('HKEYS', KEYS[3])
        """);

    // Removes members of older lists: from members, their membership mark and fenced state, and from queue when
    // free (a held or cooling one leaves queue when its lease or cooldown ends).
    private const string Sweep = """
        local function sweep(gen, cursor)
          local r = redis.call('HSCAN', members, cursor, 'COUNT', 1000)
          local items, g = r[2], tostring(gen)
          for i = 1, #items, 2 do
            local m = items[i]
            if items[i + 1] ~= g then
              redis.call('HDEL', members, m)
              redis.call('HDEL', meta, 'g:' .. m)
              redis.call('HDEL', state, 'd:' .. m, 'f:' .. m, 'w:' .. m)
              local b = redis.call('ZSCORE', queue, m)
              if b and tonumber(b) < 0 then redis.call('ZREM', queue, m) end
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
    public static readonly RedisScript PoolMembersAdd = new(PoolHead + Sweep + """
        local gen
        if ARGV[2] == '0' then
          local v = redis.call('HGET', meta, 'version')
          if v and tonumber(ARGV[1]) < tonumber(v) then return {0, '0'} end
          gen = redis.call('HINCRBY', meta, 'gen', 1)
          redis.call('HSET', meta, 'version', ARGV[1])
        else
          gen = tonumber(ARGV[2])
          if tonumber(redis.call('HGET', meta, 'gen') or '0') ~= gen then return {-1, '0'} end
        end
        local marks = {}
        for i = 4, #ARGV do
          local m = ARGV[i]
          marks[#marks + 1] = 'g:' .. m
          marks[#marks + 1] = gen
          if redis.call('HSET', members, m, gen) == 1 then
            -- New to the list: free at its old position, unless still held or cooling from before.
            redis.call('ZADD', queue, 'NX', (tonumber(redis.call('HGET', meta, 'f:' .. m)) or 0) - FREE, m)
          end
        end
        if #marks > 0 then redis.call('HSET', meta, unpack(marks)) end
        if ARGV[3] == '1' then return sweep(gen, '0') end
        return {gen, '0'}
        """);

    /// <summary>Removes members that the current list (generation) did not write, one HSCAN step. ARGV: generation, cursor. Returns {generation or -1, next cursor}.</summary>
    public static readonly RedisScript PoolMembersSweep = new(PoolHead + Sweep + """
        local gen = tonumber(ARGV[1])
        if tonumber(redis.call('HGET', meta, 'gen') or '0') ~= gen then return {-1, '0'} end
        return sweep(gen, ARGV[2])
        """);
}
