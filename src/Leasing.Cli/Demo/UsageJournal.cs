using System.Collections.Concurrent;

namespace Leasing.Cli.Demo;

/// <summary>
/// One use of a channel: who held it, under which fencing token, when the work ran (monotonic
/// timestamps), and whether the release afterwards found the lease still ours (the backend's
/// compare-and-set on the owner token). A holder that never released (killed) ends at its local deadline.
/// </summary>
internal sealed record ChannelUse(string Channel, long FencingToken, long Start, long End, int Worker, bool Released);

/// <summary>
/// The record of every channel use in a demo run, and the check that no channel was ever held twice.
/// </summary>
/// <remarks>
/// Per channel, uses are ordered by fencing token (the backend's order of grants). For two
/// consecutive grants A then B: when A's release succeeded, A still held the lease after its work
/// ended, so B was granted after that, and B's work must start after A's ended, whatever the
/// scheduler did in between. A killed holder counts as held until its local deadline. A holder
/// whose release failed lost its lease while paused (a zombie): its work may overlap the next one,
/// which is what fencing tokens are for; it is counted as stale, not as a violation. A fencing
/// token granted twice is a violation.
/// </remarks>
internal sealed class UsageJournal
{
    private readonly ConcurrentQueue<ChannelUse> _uses = new();

    public int Count => _uses.Count;

    public void Add(ChannelUse use) => _uses.Enqueue(use);

    public IReadOnlyList<ChannelUse> Snapshot() => [.. _uses];

    /// <summary>Uses whose lease was found gone at release: the holder outlived its lease (paused) and its token went stale.</summary>
    public int StaleUses => _uses.Count(u => !u.Released);

    /// <summary>Pairs of uses of one channel that break the rules above.</summary>
    public IReadOnlyList<(ChannelUse Earlier, ChannelUse Later, string Rule)> FindViolations()
    {
        var violations = new List<(ChannelUse, ChannelUse, string)>();
        foreach (var channel in _uses.GroupBy(u => u.Channel, StringComparer.Ordinal))
        {
            var ordered = channel.OrderBy(u => u.FencingToken).ToArray();
            for (var i = 1; i < ordered.Length; i++)
            {
                var (earlier, later) = (ordered[i - 1], ordered[i]);
                if (later.FencingToken == earlier.FencingToken)
                {
                    violations.Add((earlier, later, "fencing token granted twice"));
                }
                else if (earlier.Released && later.Start < earlier.End)
                {
                    violations.Add((earlier, later, "overlap"));
                }
            }
        }

        return violations;
    }
}
