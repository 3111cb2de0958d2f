using System.Diagnostics;
using Spectre.Console;

namespace Leasing.Cli.Tests;

/// <summary>What a run of the command printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}

/// <summary>Runs the <c>leasing</c> command in this process (fast) or as its own process (real standard streams).</summary>
internal static class Cli
{
    public static async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, input: null, terminal: false);

    public static async Task<CliResult> RunAsync(string[] args, string? input, bool terminal, int width = 160)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        ansi.Profile.Width = width;
        var console = new CliConsole(ansi, output, error, new StringReader(input ?? string.Empty), terminal);
        var code = await LeasingCommandLine.RunAsync(args, console);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the built tool as a child process with standard input redirected (not a terminal), as a script would.</summary>
    public static async Task<CliResult> RunProcessAsync(params string[] args)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "Leasing.Cli.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(tool);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"leasing {string.Join(' ', args)} did not exit within 60 s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
