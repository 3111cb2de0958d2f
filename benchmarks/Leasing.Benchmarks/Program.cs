using BenchmarkDotNet.Running;
using Leasing.Benchmarks.Quick;

if (args.Length > 0 && args[0] == DuplicateCalls.WorkerSwitch)
{
    return await DuplicateCalls.WorkerAsync(args); // one of the quick run's duplicate processes
}

// `--cluster`: the cost of WaitForReplicas on the Redis Cluster in LEASING_REDIS_CLUSTER (benchmarks/README.md).
if (args.Contains(ClusterWaitCost.Switch))
{
    return await ClusterWaitCost.RunAsync(args);
}

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
