using BenchmarkDotNet.Running;
using Leasing.Benchmarks.Quick;

// `--quick`: the one-run comparison with the servers (benchmarks/README.md); otherwise BenchmarkDotNet.
if (args.Contains("--quick"))
{
    try
    {
        return await QuickRun.RunAsync(args);
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"quick run failed: {e}");
        return 1;
    }
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
