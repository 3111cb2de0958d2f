using StackExchange.Redis;

namespace Leasing.Redis.Tests.Support;

/// <summary>Reads a server's command statistics (<c>INFO commandstats</c>, since the last <c>CONFIG RESETSTAT</c>).</summary>
internal static class CommandStats
{
    /// <summary>The scripts the server ran: EVALSHA and EVAL calls.</summary>
    public static async Task<long> ScriptRunsAsync(IServer server)
    {
        var stats = (await server.InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        return Calls(stats, "cmdstat_evalsha") + Calls(stats, "cmdstat_eval");
    }

    private static long Calls(Dictionary<string, string> stats, string command) =>
        stats.TryGetValue(command, out var value) ? long.Parse(value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture) : 0;
}
