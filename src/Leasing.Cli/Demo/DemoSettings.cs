namespace Leasing.Cli.Demo;

/// <summary>The shape of a demo run.</summary>
internal sealed record DemoSettings(int Workers, int Channels, TimeSpan Duration)
{
    public const int DefaultWorkers = 8;
    public const int DefaultChannels = 4;
    public const int DefaultSeconds = 5;

    /// <summary>Short enough that the killed worker's channel comes back well within the run; at most 2 s.</summary>
    public TimeSpan LeaseDuration => TimeSpan.FromMilliseconds(Math.Clamp(Duration.TotalMilliseconds / 4, 500, 2_000));

    /// <summary>How long a channel stays blocked after a submission "timed out".</summary>
    public TimeSpan Cooldown => TimeSpan.FromMilliseconds(100);

    /// <summary>How often a submission "times out" (uncertain outcome: released with a cooldown).</summary>
    public double TimeoutRate => 0.03;

    /// <summary>How many workers send the same payment at once.</summary>
    public int PaymentSenders => Math.Clamp(Workers, 2, 8);
}
