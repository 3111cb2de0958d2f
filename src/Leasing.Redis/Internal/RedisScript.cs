using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>
/// One Lua script, run with EVALSHA by its SHA-1. When a server does not know the script (first use,
/// or a restart emptied its script cache) it answers NOSCRIPT, and the script is sent once with EVAL,
/// which runs it and caches it on that server, so later calls are one EVALSHA again.
/// </summary>
/// <remarks>
/// Why not the client's own script support: <c>ScriptEvaluateAsync(string)</c> and <c>LuaScript</c> send
/// the whole text with EVAL until they have seen the script loaded through this multiplexer, and
/// <c>LoadedLuaScript</c> needs an explicit <c>SCRIPT LOAD</c> on each server, again after every
/// restart or failover (on each cluster primary). Here the hash is computed once per script, every
/// call is exactly one EVALSHA (the round-trip tests count that), and a server that lost its scripts
/// costs one EVAL, routed by the same keys, on the call that finds out.
/// </remarks>
internal sealed class RedisScript
{
    /// <summary>The Lua prelude every script with a clock starts with: <c>now</c>, the server's time in microseconds since the Unix epoch.</summary>
    public const string Clock = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

        """;

    /// <summary>The Lua helper <c>fmt(n)</c>: writes a number without exponent notation (16-digit microsecond values).</summary>
    public const string Format = """
        local function fmt(n) return string.format('%.0f', n) end

        """;

    public RedisScript(string text)
    {
        Text = text;
#pragma warning disable CA5350 // SHA-1 is how Redis names a script (EVALSHA); it protects nothing here.
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
    }

    /// <summary>The Lua source.</summary>
    public string Text { get; }

    /// <summary>The SHA-1 of the source, as EVALSHA takes it.</summary>
    public byte[] Hash { get; }

    /// <summary>Runs the script: EVALSHA, and on NOSCRIPT one EVAL that also loads it.</summary>
    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(Hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // One EVAL, sent as such (routed by its key arguments): it runs the script and caches it.
            var args = new object[2 + keys.Length + values.Length];
            args[0] = Text;
            args[1] = keys.Length;
            for (var i = 0; i < keys.Length; i++)
            {
                args[2 + i] = keys[i];
            }

            for (var i = 0; i < values.Length; i++)
            {
                args[2 + keys.Length + i] = values[i];
            }

            return await database.ExecuteAsync("EVAL", args).ConfigureAwait(false);
        }
    }
}
