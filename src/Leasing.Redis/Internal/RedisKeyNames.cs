using System.Text;

namespace Leasing.Redis.Internal;

/// <summary>
/// Builds the Redis key and channel names of the store. Every name starts with the key prefix and
/// a format version (<c>leasing:v1:</c> for single keys and idempotency records, <c>leasing:v2:</c>
/// for pools); key text is escaped so that an id can neither pick a cluster slot (hash tags), nor
/// read as a glob, nor run into another key.
/// </summary>
/// <remarks>
/// Escaping maps <c>%</c> (the escape character itself), <c>{</c>, <c>}</c>, <c>*</c>, <c>?</c>,
/// <c>[</c>, <c>]</c>, <c>:</c> and <c>\</c> to <c>%XX</c> (uppercase hex). The mapping is one to
/// one, so two different ids never share a key. A pool's keys share the hash tag
/// <c>{pool:ESCAPED-NAME}</c>, so every multi-key script of a pool runs on one cluster slot.
/// </remarks>
internal sealed class RedisKeyNames
{
    /// <summary>The format version of single keys and idempotency records.</summary>
    public const string FormatVersion = "v1";

    /// <summary>
    /// The format version of pool keys. v2: member state in fields of the meta hash, free and busy
    /// members in one sorted set, the LRU order by fencing token. Pools written in v1 are not read; a pool writes its member list again on first use.
    /// </summary>
    public const string PoolFormatVersion = "v2";

    private static readonly System.Buffers.SearchValues<char> Special = System.Buffers.SearchValues.Create("%{}*?[]:\\");

    private readonly string _root;
    private readonly string _poolRoot;

    public RedisKeyNames(string keyPrefix)
    {
        _root = keyPrefix + ":" + FormatVersion + ":";
        _poolRoot = keyPrefix + ":" + PoolFormatVersion + ":";
    }

    /// <summary>The prefix every single key, idempotency key and idempotency channel starts with.</summary>
    public string Root => _root;

    /// <summary>The hash of one single key (a lock).</summary>
    public string SingleKey(string key) => _root + "key:" + Escape(key);

    /// <summary>The keys and release channel of one pool.</summary>
    public PoolKeyNames Pool(string pool)
    {
        var tag = _poolRoot + "{pool:" + Escape(pool) + "}:";
        return new PoolKeyNames(tag + "meta", tag + "queue", tag + "members", tag + "state", tag + "released");
    }

    /// <summary>The record of one idempotency key.</summary>
    public string IdempotencyKey(string key) => _root + "idem:" + Escape(key);

    /// <summary>The channel on which completions and releases of one idempotency key are announced.</summary>
    public string IdempotencyChannel(string key) => _root + "idem-done:" + Escape(key);

    /// <summary>Escapes the characters that carry meaning in Redis key names and globs.</summary>
    public static string Escape(string text)
    {
        var first = text.AsSpan().IndexOfAny(Special);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        escaped.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '%' or '{' or '}' or '*' or '?' or '[' or ']' or ':' or '\\')
            {
                escaped.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}

/// <summary>The Redis names of one pool, all under one hash tag.</summary>
/// <param name="Meta">Hash: version, membership generation, the pool's last fencing token, a lower bound on the ends of holds and cooldowns, and per member (fields <c>f:ID</c>, <c>t:ID</c>, <c>g:ID</c>) its last fencing token, owner token and membership generation.</param>
/// <param name="Queue">Sorted set of every current member and every removed one still held or cooling: free members below zero by last fencing token (least recently acquired first), held and cooling ones by the end of the lease or cooldown (µs).</param>
/// <param name="Members">Hash of current members to the membership generation that wrote them.</param>
/// <param name="State">Hash of the members' fenced state: per member <c>d:ID</c> (bytes), <c>f:ID</c> (the writer's fencing token), <c>w:ID</c> (write time, µs).</param>
/// <param name="Channel">The pub/sub channel on which releases are announced.</param>
internal sealed record PoolKeyNames(string Meta, string Queue, string Members, string State, string Channel);
