using System.Collections.Concurrent;

namespace Leasing.Cli.Demo;

/// <summary>One use of a channel: who held it, under which fencing token, and when the work ran (monotonic timestamps).</summary>
internal sealed record ChannelUse(string Channel, long FencingToken, long Start, long End, int Worker);

/// <summary>
/// The record of every channel use in a demo run, and the check that no channel was ever used twice
/// at once: per channel, ordered by start, each use must begin after every earlier use ended and
/// carry a fencing token greater than every earlier one.
/// </summary>
internal sealed class UsageJournal
{
    private readonly ConcurrentQueue<ChannelUse> _uses = new();

    public int Count => _uses.Count;

    public void Add(ChannelUse use) => _uses.Enqueue(use);

    public IReadOnlyList<ChannelUse> Snapshot() => [.. _uses];

    /// <summary>The uses that overlap an earlier use of the same channel or do not raise its fencing token.</summary>
    public IReadOnlyList<(ChannelUse Earlier, ChannelUse Later, string Rule)> FindViolations()
    {
        var violations = new List<(ChannelUse, ChannelUse, string)>();
        foreach (var channel in _uses.GroupBy(u => u.Channel, StringComparer.Ordinal))
        {
            ChannelUse? lastEnding = null;
            ChannelUse? highestFence = null;
            foreach (var use in channel.OrderBy(u => u.Start).ThenBy(u => u.End))
            {
                if (lastEnding is not null && use.Start < lastEnding.End)
                {
                    violations.Add((lastEnding, use, "overlap"));
                }

                if (highestFence is not null && use.FencingToken <= highestFence.FencingToken)
                {
                    violations.Add((highestFence, use, "fencing token did not increase"));
                }

                if (lastEnding is null || use.End > lastEnding.End)
                {
                    lastEnding = use;
                }

                if (highestFence is null || use.FencingToken > highestFence.FencingToken)
                {
                    highestFence = use;
                }
            }
        }

        return violations;
    }
}
