using System.Diagnostics;

namespace Leasing.Redis.Tests.Support;

/// <summary>Runs tests/Leasing.Redis.TestHost (built with this project) as a separate OS process.</summary>
public sealed class TestHostProcess : IDisposable
{
    private readonly Process process;

    private TestHostProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public static TestHostProcess Start(params string[] args)
    {
        // bin/<Configuration>/<tfm>/ of this project -> the same folders of the host project.
        var here = AppContext.BaseDirectory;
        var host = Path.GetFullPath(here.Replace($"{Path.DirectorySeparatorChar}Leasing.Redis.Tests{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}Leasing.Redis.TestHost{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var dll = Path.Combine(host, "Leasing.Redis.TestHost.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The test host was not built next to the tests: {dll}");
        }

        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new TestHostProcess(Process.Start(start) ?? throw new InvalidOperationException("The test host did not start."));
    }

    /// <summary>Reads the next line the process prints, within <paramref name="timeout"/>.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(timeout);
        return line ?? throw new InvalidOperationException($"The test host exited ({process.ExitCode}): {await process.StandardError.ReadToEndAsync()}");
    }

    /// <summary>Waits for the process to end and fails with its error output when it did not end well.</summary>
    public async Task WaitForSuccessAsync(TimeSpan timeout)
    {
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The test host failed ({process.ExitCode}): {await output} {await error}");
        }
    }

    /// <summary>kill -9: the process ends at once, without releasing anything.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
