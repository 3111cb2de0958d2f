using System.Globalization;
using Spectre.Console;

namespace Leasing.Cli.Demo;

/// <summary>Prints a demo report: plain lines (easy to grep, e.g. <c>violations: 0</c>) and a per-channel table.</summary>
internal static class DemoSummary
{
    public static void Write(CliConsole console, DemoReport report)
    {
        var o = console.Out;
        var c = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine(string.Create(c, $"pairs:          {report.Pairs:N0} acquire+release in {report.Elapsed.TotalSeconds:0.0} s = {report.PairsPerSecond:N1} pairs/s"));
        o.WriteLine(string.Create(c, $"acquire wait:   p50 {report.AcquireWaitP50Ms:0.00} ms, p99 {report.AcquireWaitP99Ms:0.00} ms ({report.Settings.Workers} workers, {report.Settings.Channels} channels)"));
        o.WriteLine(string.Create(c, $"cooldowns:      {report.Cooldowns} submissions timed out and cooled down for {report.Settings.Cooldown.TotalMilliseconds:0} ms"));
        o.WriteLine(string.Create(c, $"leases lost:    {report.LeasesLost} (LeaseLost fired during work); stale at release: {report.StaleUses} (paused past the lease: fencing rejects their writes)"));
        o.WriteLine(report.Kill switch
        {
            null => "killed worker:  none (the run ended first)",
            { CameBackAfter: null } k => string.Create(c, $"killed worker:  held {k.Channel} (fencing {k.FencingToken}), died without releasing; channel not used again before the end"),
            var k => string.Create(c, $"killed worker:  held {k.Channel} (fencing {k.FencingToken}), died without releasing; channel back {k.CameBackAfter!.Value.TotalSeconds:0.00} s after it was taken (lease {report.Settings.LeaseDuration.TotalSeconds:0.0#} s), next fencing {k.NextFencingToken}"),
        });
        o.WriteLine(report.Payment switch
        {
            null => "payment:        skipped (the run ended first)",
            var p => string.Create(c, $"payment:        {p.Senders} senders at once, {p.Executions} execution{(p.Executions == 1 ? string.Empty : "s")}, {p.Replays} replays of its receipt"),
        });
        o.WriteLine(string.Create(c, $"sequence:       {report.Sequences.Used:N0} sequence numbers used through fenced channel state, no gap and no repeat unless listed below"));
        o.WriteLine(string.Create(c, $"stale state writes refused: {report.Sequences.Refused} ({report.Sequences.RefusedPaused} by workers paused past their lease)"));
        o.Flush();

        var uses = report.ChannelUses;
        var max = uses.Count == 0 ? 0 : uses.Max(u => u.Uses);
        var mean = uses.Count == 0 ? 0 : uses.Average(u => u.Uses);
        var table = new Table().Border(TableBorder.Rounded).Title("per-channel use");
        table.AddColumn("channel").AddColumn(new TableColumn("uses").RightAligned()).AddColumn(new TableColumn("vs mean").RightAligned()).AddColumn("");
        foreach (var (channel, count) in uses)
        {
            var bar = max == 0 ? string.Empty : new string('#', (int)Math.Round(20.0 * count / max));
            var share = mean == 0 ? "-" : string.Create(c, $"{(count - mean) / mean:+0%;-0%;0%}");
            table.AddRow(new Text(channel), new Text(count.ToString("N0", c)), new Text(share), new Text(bar));
        }

        console.Ansi.Write(table);
        foreach (var violation in report.Violations.Take(20))
        {
            console.Error.WriteLine($"violation: {violation}");
        }

        o.WriteLine($"violations: {report.Violations.Count}");
        o.Flush();
    }
}
