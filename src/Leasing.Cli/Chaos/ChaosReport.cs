namespace Leasing.Cli.Chaos;

/// <summary>What a chaos run did and found: the figures printed and written to <c>--json</c>.</summary>
internal sealed record ChaosReport(
    ChaosSettings Settings,
    string Backend,
    TimeSpan Elapsed,
    int WorkersStarted,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyDictionary<string, int> RiddenThrough,
    ChaosVerdict Verdict)
{
    public int Violations => Verdict.Violations;

    /// <summary>The <c>--json</c> document; the README lists its keys.</summary>
    public object ToJson() => new Dictionary<string, object?>
    {
        ["backend"] = Settings.Backend.ToString().ToLowerInvariant(),
        ["target"] = Backend,
        ["processes"] = Settings.Processes,
        ["seconds"] = Math.Round(Elapsed.TotalSeconds, 1),
        ["leaseMs"] = ChaosSettings.LeaseDuration.TotalMilliseconds,
        ["workersStarted"] = WorkersStarted,
        ["acquisitions"] = Verdict.Acquisitions,
        ["acquisitionsByKind"] = new Dictionary<string, int> { ["pool"] = Verdict.PoolAcquisitions, ["lock"] = Verdict.LockAcquisitions },
        ["faults"] = Faults,
        ["recovery"] = Verdict.Recovery.ToDictionary(
            r => r.Key,
            r => new Dictionary<string, object>
            {
                ["recovered"] = r.Value.Recovered,
                ["p50Ms"] = Math.Round(r.Value.P50Ms, 1),
                ["p99Ms"] = Math.Round(r.Value.P99Ms, 1),
                ["notRecovered"] = r.Value.NotRecovered,
            }),
        ["riddenThrough"] = RiddenThrough,
        ["overlaps"] = Verdict.Overlaps,
        ["clockSteps"] = new Dictionary<string, object>
        {
            ["count"] = Verdict.ClockSteps.Count,
            ["forwardMs"] = Math.Round(Verdict.ClockSteps.Where(c => c.Size > 0).Sum(c => c.Milliseconds), 1),
            ["backwardMs"] = Math.Round(-Verdict.ClockSteps.Where(c => c.Size < 0).Sum(c => c.Milliseconds), 1),
            ["overlapsExplained"] = Verdict.OverlapsExplainedByClock,
            ["explained"] = Verdict.ExplainedOverlaps,
        },
        ["zombieWrites"] = new Dictionary<string, int> { ["rejected"] = Verdict.ZombieWritesRejected, ["accepted"] = Verdict.ZombieWritesAccepted },
        ["fencingNotGrowing"] = Verdict.FencingNotGrowing,
        ["fencedState"] = new Dictionary<string, int> { ["stored"] = Verdict.StateWritesStored, ["staleRefused"] = Verdict.StateWritesRefused, ["sequenceRepeats"] = Verdict.SequenceRepeats },
        ["payments"] = new Dictionary<string, int>
        {
            ["keys"] = Verdict.PaymentKeys,
            ["executions"] = Verdict.PaymentExecutions,
            ["executedMoreThanOnce"] = Verdict.PaymentsExecutedTwice,
            ["rerunsAfterLostClaim"] = Verdict.PaymentRerunsExcused,
            ["staleChargesRefused"] = Verdict.PaymentChargesRejected,
            ["callersCancelled"] = Verdict.PaymentCallersCancelled,
        },
        ["stranded"] = new Dictionary<string, object> { ["count"] = Verdict.Stranded, ["longestIdleMs"] = Math.Round(Verdict.LongestStrandMs, 1) },
        ["violations"] = Violations,
        ["details"] = Verdict.Details,
    };
}
