using System.Diagnostics;

namespace Leasing.Sql.Tests.Support;

/// <summary>
/// Starts Leasing.Sql.TestHost processes, waits until each has set up ("ready"), releases them together
/// ("go" on stdin) and collects what they print. Processes still running at the end are killed by id.
/// </summary>
public static class WorkerProcesses
{
    public static async Task<string[]> RunAsync(IReadOnlyList<string[]> argumentsPerProcess, TimeSpan limit)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Leasing.Sql.TestHost.dll");
        var processes = new List<Process>();
        try
        {
            foreach (var arguments in argumentsPerProcess)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add(host);
                foreach (var argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                processes.Add(Process.Start(start) ?? throw new InvalidOperationException("could not start the worker process"));
            }

            using var deadline = new CancellationTokenSource(limit);
            foreach (var process in processes)
            {
                var first = await process.StandardOutput.ReadLineAsync(deadline.Token);
                if (first != "ready")
                {
                    throw new InvalidOperationException($"worker {process.Id} did not get ready: '{first}' {await process.StandardError.ReadToEndAsync(deadline.Token)}");
                }
            }

            // Released together: the race starts at once in every process.
            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync(deadline.Token);
            }

            var outputs = new string[processes.Count];
            for (var i = 0; i < processes.Count; i++)
            {
                var output = await processes[i].StandardOutput.ReadToEndAsync(deadline.Token);
                var errors = await processes[i].StandardError.ReadToEndAsync(deadline.Token);
                await processes[i].WaitForExitAsync(deadline.Token);
                if (processes[i].ExitCode != 0)
                {
                    throw new InvalidOperationException($"worker {processes[i].Id} exited with {processes[i].ExitCode}: {output} {errors}");
                }

                outputs[i] = output.Trim();
            }

            return outputs;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }
}
