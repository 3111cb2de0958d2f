using Spectre.Console;

namespace Leasing.Cli;

/// <summary>
/// Where a command writes and reads: <see cref="Out"/> for plain text and JSON (never wrapped),
/// <see cref="Ansi"/> for tables and live progress (both standard output), <see cref="Error"/> for
/// errors and prompts, <see cref="In"/> for confirmations.
/// </summary>
internal sealed class CliConsole(IAnsiConsole ansi, TextWriter output, TextWriter error, TextReader input, bool inputIsTerminal)
{
    public IAnsiConsole Ansi { get; } = ansi;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public TextReader In { get; } = input;

    /// <summary>Whether a person can answer a prompt (standard input is a terminal).</summary>
    public bool InputIsTerminal { get; } = inputIsTerminal;

    /// <summary>
    /// The process console. When standard output is piped or redirected, tables are written at their natural
    /// width with no colour: Spectre would otherwise assume 80 columns and wrap long rows, which breaks
    /// <c>grep</c> and <c>awk</c> (one row, one line).
    /// </summary>
    public static CliConsole System()
    {
        var ansi = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            ansi = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(Console.Out),
            });
            ansi.Profile.Width = PipedWidth;
        }

        return new(ansi, Console.Out, Console.Error, Console.In, !Console.IsInputRedirected);
    }

    /// <summary>The width tables may take when standard output is not a terminal: no row is ever wrapped.</summary>
    public const int PipedWidth = 1000;

    /// <summary>Writes an error message to standard error, prefixed with the command name.</summary>
    public void WriteError(string message) => Error.WriteLine($"leasing: {message}");

    /// <summary>
    /// Asks a yes/no question on standard error and reads the answer from standard input; anything
    /// but "y" or "yes" is a no.
    /// </summary>
    public async Task<bool> ConfirmAsync(string question, CancellationToken cancellationToken)
    {
        await Error.WriteAsync($"{question} [y/N] ").ConfigureAwait(false);
        await Error.FlushAsync(cancellationToken).ConfigureAwait(false);
        var answer = await In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        return answer?.Trim().ToUpperInvariant() is "Y" or "YES";
    }
}
