using System.CommandLine;
using System.Runtime.InteropServices;
using Leasing.Cli.Commands;

namespace Leasing.Cli;

/// <summary>The <c>leasing</c> command line: parses, runs one command, maps failures to exit codes and stderr.</summary>
internal static class LeasingCommandLine
{
    public static RootCommand Build(CliConsole console) =>
        new("leasing: distributed leases, channel pools and idempotent execution. Start with `leasing demo`.")
        {
            DemoCommand.Create(console),
            PoolCommand.Create(console),
            IdemCommand.Create(console),
            SchemaCommand.Create(console),
            ChaosCommand.Create(console),
            ChaosCommand.CreateWorker(),
        };

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var root = Build(console);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                console.WriteError(error.Message);
            }

            console.Error.WriteLine("Run 'leasing --help' for usage.");
            return ExitCodes.Usage;
        }

        // Ctrl+C and SIGTERM cancel the command, which then cleans up and exits 130 (leasing chaos stops
        // its worker processes and private servers first); the process is not ended under it.
        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;

            // Not on the signal thread: the cancellation's continuations wait for child processes,
            // whose exits (SIGCHLD) that same thread reports.
            _ = Task.Run(interrupted.Cancel, CancellationToken.None);
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parsed.InvokeAsync(configuration, interrupted.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            console.WriteError("interrupted");
            return ExitCodes.Interrupted;
        }
        catch (LeaseStoreUnavailableException e)
        {
            console.WriteError($"{e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : string.Empty)}");
            return ExitCodes.Failed;
        }
        catch (ArgumentException e)
        {
            console.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is NotSupportedException or IOException or UnauthorizedAccessException)
        {
            console.WriteError(e.Message);
            return ExitCodes.Failed;
        }
    }
}
