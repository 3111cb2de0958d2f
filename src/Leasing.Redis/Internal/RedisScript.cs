using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Leasing.Redis.Internal;

/// <summary>
/// One Lua script, run with EVALSHA by its SHA-1. When a server does not know the script (first use,
/// or a restart emptied its script cache) it answers NOSCRIPT, and the script is sent once with EVAL,
/// which runs it and caches it on that server, so later calls are one EVALSHA again.
/// </summary>
internal sealed class RedisScript
{
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
