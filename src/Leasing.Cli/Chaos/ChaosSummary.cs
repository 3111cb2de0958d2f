using System.Globalization;
using System.Text.Json;

namespace Leasing.Cli.Chaos;

/// <summary>Prints a chaos report as plain lines (easy to grep; the last one is <c>violations: N</c>) and writes its JSON.</summary>
internal static class ChaosSummary
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void Write(CliConsole console, ChaosReport report)
    {
        var o = console.Out;
        var c = CultureInfo.InvariantCulture;
        var v = report.Verdict;
        o.WriteLine();
        o.WriteLine(string.Create(c, $"acquisitions:   {v.Acquisitions:N0} in {report.Elapsed.TotalSeconds:0.0} s = {v.Acquisitions / Math.Max(report.Elapsed.TotalSeconds, 0.001):N0}/s (pool {v.PoolAcquisitions:N0}, locks {v.LockAcquisitions:N0}); {report.WorkersStarted} worker processes started"));
        o.WriteLine($"faults:         {string.Join(", ", report.Faults.Select(f => string.Create(c, $"{f.Key} {f.Value:N0}")))}");
        o.WriteLine("recovery:       until the next grant of what the fault hit (the keys a killed or paused holder held; else the pool and every lock key)");
        foreach (var (kind, figure) in report.Faults.Keys.Where(v.Recovery.ContainsKey).Select(k => (k, v.Recovery[k])))
        {
            o.WriteLine(string.Create(c, $"  {kind,-8}      p50 {figure.P50Ms / 1000:0.00} s, p99 {figure.P99Ms / 1000:0.00} s over {figure.Recovered}{(figure.NotRecovered > 0 ? $", {figure.NotRecovered} not before the end" : string.Empty)}"));
        }

        if (report.RiddenThrough.Count > 0)
        {
            o.WriteLine($"rode through:   {string.Join(", ", report.RiddenThrough.OrderByDescending(f => f.Value).Take(8).Select(f => string.Create(c, $"{f.Key} {f.Value:N0}")))}");
        }

        o.WriteLine(string.Create(c, $"overlapping holds among live holders: {v.Overlaps}"));
        if (v.ClockSteps.Count > 0 || v.OverlapsExplainedByClock > 0)
        {
            // Not faults the run injected: the wall clock that decides expiry stepped (see ClockWatch).
            var steps = string.Join(", ", v.ClockSteps.Take(8).Select(s => string.Create(c, $"{(s.Size > 0 ? "+" : string.Empty)}{s.Milliseconds / 1000:0.000} s")));
            o.WriteLine(string.Create(c, $"clock steps:    {v.ClockSteps.Count} of this host's wall clock against its monotonic clock{(v.ClockSteps.Count > 0 ? $" ({steps}{(v.ClockSteps.Count > 8 ? ", ..." : string.Empty)})" : string.Empty)}; overlaps the backend's clock explains (leases it ended early; not counted): {v.OverlapsExplainedByClock}"));
            foreach (var line in v.ExplainedOverlaps.Take(5))
            {
                o.WriteLine($"  explained:    {line}");
            }
        }

        o.WriteLine(string.Create(c, $"zombie writes:  {v.ZombieWritesRejected:N0} rejected by the fenced sink; accepted after a successor began: {v.ZombieWritesAccepted}"));
        o.WriteLine(string.Create(c, $"fencing tokens that did not grow: {v.FencingNotGrowing}"));
        o.WriteLine(string.Create(c, $"fenced state:   {v.StateWritesStored:N0} sequence numbers stored; stale state writes refused: {v.StateWritesRefused:N0}; sequence numbers used twice: {v.SequenceRepeats}"));
        o.WriteLine(string.Create(c, $"payments:       {v.PaymentKeys:N0} keys, {v.PaymentExecutions:N0} executions ({v.PaymentRerunsExcused} re-runs after a provably lost claim, {v.PaymentChargesRejected} stale charges refused, {v.PaymentCallersCancelled} callers cancelled mid-call); executed more than once: {v.PaymentsExecutedTwice}"));
        o.WriteLine(string.Create(c, $"stranded:       {v.Stranded} (longest idle while the backend answered {v.LongestStrandMs / 1000:0.00} s; limit {(ChaosSettings.LeaseDuration + ChaosSettings.StrandedMargin).TotalSeconds:0.#} s, {ChaosSettings.StrandedAfter.TotalSeconds:0.#} s away from faults)"));
        o.Flush();
        foreach (var detail in v.Details.Take(30))
        {
            console.Error.WriteLine($"violation: {detail}");
        }

        o.WriteLine($"violations: {report.Violations}");
        o.Flush();
    }

    public static async Task WriteJsonAsync(string path, ChaosReport report, CancellationToken cancellationToken)
    {
        var stream = File.Create(path);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, report.ToJson(), Json, cancellationToken).ConfigureAwait(false);
        }
    }
}
