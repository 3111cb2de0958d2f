namespace Leasing.Cli.Demo;

/// <summary>What a demo run measured.</summary>
internal sealed record DemoReport(
    DemoSettings Settings,
    string Backend,
    TimeSpan Elapsed,
    int Pairs,
    double AcquireWaitP50Ms,
    double AcquireWaitP99Ms,
    int Cooldowns,
    int LeasesLost,
    int StaleUses,
    IReadOnlyList<(string Channel, int Uses)> ChannelUses,
    KillReport? Kill,
    PaymentReport? Payment,
    SequenceReport Sequences,
    IReadOnlyList<string> Violations)
{
    public double PairsPerSecond => Elapsed > TimeSpan.Zero ? Pairs / Elapsed.TotalSeconds : 0;
}

/// <summary>The worker that was killed mid-lease: its channel, and how long after it was taken the channel was next used.</summary>
internal sealed record KillReport(string Channel, long FencingToken, TimeSpan? CameBackAfter, long NextFencingToken);

/// <summary>The payment sent by several workers at once: how often it ran and how many callers got a replay.</summary>
internal sealed record PaymentReport(int Senders, int Executions, int Replays);

/// <summary>The channels' fenced sequence numbers: how many were used, how many state writes were refused (all, and those of paused workers).</summary>
internal sealed record SequenceReport(int Used, int Refused, int RefusedPaused);
