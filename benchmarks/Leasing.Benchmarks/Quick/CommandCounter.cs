using System.Globalization;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Leasing.Benchmarks.Quick;

/// <summary>What one operation cost in Redis commands.</summary>
/// <param name="TopLevelPerOp">Top-level commands per operation: the server's <c>INFO commandstats</c> delta of the command names this client sent.</param>
/// <param name="ClientSentPerOp">Commands this client sent per operation (StackExchange.Redis profiler): the same number seen from the client, immune to other clients of a shared server.</param>
/// <param name="TopLevel">Per command name, top-level calls per operation.</param>
/// <param name="InsideScripts">Per command name, calls per operation under names this client never sent: the commands the scripts ran.</param>
/// <param name="ServerMicrosPerOp">Server time per operation: the <c>usec</c> delta of the top-level commands (a script's includes the commands it ran).</param>
internal sealed record CommandCount(double TopLevelPerOp, double ClientSentPerOp, IReadOnlyDictionary<string, double> TopLevel, IReadOnlyDictionary<string, double> InsideScripts, double ServerMicrosPerOp)
{
    public string Describe() =>
        $"{Format(TopLevel)}; inside scripts: {(InsideScripts.Count == 0 ? "none" : Format(InsideScripts))}";

    private static string Format(IReadOnlyDictionary<string, double> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value:0.##}")));
}

/// <summary>
/// Counts the Redis commands an operation costs from <c>INFO commandstats</c> deltas around a window
/// of sequential operations. Redis counts a script call under its dispatching command
/// (<c>cmdstat_evalsha</c>) and every command the script runs under that command's own name, so a
/// name's delta alone cannot say who sent it. The StackExchange.Redis profiler records which command
/// names this client put on the wire in the window: those names' deltas are the top-level commands;
/// every other name's delta is script-internal (or another client's on a shared server). Other
/// clients can only add to a window, so the least of several windows is taken.
/// </summary>
internal sealed class CommandCounter
{
    private readonly IServer _server;
    private ProfilingSession? _session;

    /// <summary>Registers a profiler on <paramref name="redis"/>: use a multiplexer of its own for counting.</summary>
    public CommandCounter(IConnectionMultiplexer redis)
    {
        _server = redis.GetServers()[0];
        redis.RegisterProfiler(() => Volatile.Read(ref _session));
    }

    /// <summary>Counts <paramref name="operations"/> sequential calls of <paramref name="operation"/>, in several windows; <paramref name="beforeWindow"/> and <paramref name="afterWindow"/> run outside the count.</summary>
    public async Task<CommandCount> CountAsync(int operations, Func<int, ValueTask> operation, Func<ValueTask>? beforeWindow = null, Func<ValueTask>? afterWindow = null, int windows = 3)
    {
        CommandCount? best = null;
        for (var w = 0; w < windows; w++)
        {
            if (beforeWindow is not null)
            {
                await beforeWindow().ConfigureAwait(false);
            }

            var before = await ReadCallsAsync().ConfigureAwait(false);
            var session = new ProfilingSession();
            Volatile.Write(ref _session, session);
            try
            {
                for (var i = 0; i < operations; i++)
                {
                    await operation(i).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _session, null);
            }

            var sent = session.FinishProfiling().Select(c => c.Command.ToLowerInvariant()).ToList();
            var after = await ReadCallsAsync().ConfigureAwait(false);
            var clientNames = sent.ToHashSet(StringComparer.Ordinal);
            var topLevel = new Dictionary<string, double>(StringComparer.Ordinal);
            var inside = new Dictionary<string, double>(StringComparer.Ordinal);
            long serverMicros = 0;
            foreach (var (name, (calls, micros)) in after)
            {
                var (callsBefore, microsBefore) = before.GetValueOrDefault(name);
                var delta = calls - callsBefore;
                if (delta <= 0 || name == "info")
                {
                    continue; // INFO is this counter's own probe
                }

                var top = clientNames.Contains(name);
                (top ? topLevel : inside)[name] = delta / (double)operations;
                serverMicros += top ? micros - microsBefore : 0;
            }

            if (afterWindow is not null)
            {
                await afterWindow().ConfigureAwait(false);
            }

            var count = new CommandCount(topLevel.Values.Sum(), sent.Count / (double)operations, topLevel, inside, serverMicros / (double)operations);
            if (best is null || count.TopLevelPerOp + count.InsideScripts.Values.Sum() < best.TopLevelPerOp + best.InsideScripts.Values.Sum())
            {
                best = count;
            }
        }

        return best!;
    }

    private async Task<Dictionary<string, (long Calls, long Micros)>> ReadCallsAsync()
    {
        var calls = new Dictionary<string, (long Calls, long Micros)>(StringComparer.Ordinal);
        foreach (var group in await _server.InfoAsync("commandstats").ConfigureAwait(false))
        {
            foreach (var (key, value) in group)
            {
                // cmdstat_evalsha:calls=12,usec=345,usec_per_call=...
                if (!key.StartsWith("cmdstat_", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = value.Split(',');
                calls[key["cmdstat_".Length..]] = (
                    long.Parse(fields[0]["calls=".Length..], CultureInfo.InvariantCulture),
                    long.Parse(fields[1]["usec=".Length..], CultureInfo.InvariantCulture));
            }
        }

        return calls;
    }
}
