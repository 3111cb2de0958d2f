using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Leasing.Cli.Backends;
using Spectre.Console;

namespace Leasing.Cli.Commands;

/// <summary>What the operator commands share: <c>--json</c>, <c>--yes</c>, opening the backend, confirmations.</summary>
internal static class CommandSupport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Write JSON to standard output (for scripts) instead of a table." };

    public static Option<bool> YesOption() => new("--yes", "-y") { Description = "Do not ask for confirmation (needed when standard input is not a terminal)." };

    public static void WriteJson<T>(CliConsole console, T value)
    {
        console.Out.WriteLine(JsonSerializer.Serialize(value, Json));
        console.Out.Flush();
    }

    /// <summary>Opens the backend named by <paramref name="options"/> (one is required), runs <paramref name="body"/> and closes it.</summary>
    public static async Task<int> WithBackendAsync(ParseResult result, BackendOptions options, Func<Backend, Task<int>> body, CancellationToken cancellationToken)
    {
        var choice = options.Read(result) ?? throw new InvalidOperationException("The parser lets no operator command run without a backend.");
        await using var backend = await BackendFactory.OpenAsync(choice, createIfMissing: false, cancellationToken).ConfigureAwait(false);
        return await body(backend).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks before a destructive action unless <c>--yes</c> was given. Returns null to go on, or the
    /// exit code to stop with: <see cref="ExitCodes.Usage"/> when nobody can answer (standard input
    /// is not a terminal), <see cref="ExitCodes.Failed"/> when the answer was no.
    /// </summary>
    public static async Task<int?> ConfirmAsync(CliConsole console, bool yes, string action, string question, CancellationToken cancellationToken)
    {
        if (yes)
        {
            return null;
        }

        if (!console.InputIsTerminal)
        {
            console.WriteError($"refusing to {action} without --yes: standard input is not a terminal, so nobody can confirm.");
            return ExitCodes.Usage;
        }

        if (await console.ConfirmAsync(question, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        console.WriteError("cancelled; nothing changed.");
        return ExitCodes.Failed;
    }

    public static Text Cell(string? text) => new(text ?? "-");

    public static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
