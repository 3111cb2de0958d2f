using FluentAssertions;
using Leasing.Cli.Demo;
using Xunit;

namespace Leasing.Cli.Tests;

/// <summary>The demo's violation check can fail: overlaps after a confirmed release, a killed holder's lease handed out early, and reused fencing tokens are found.</summary>
public sealed class UsageJournalTests
{
    [Fact]
    public void FindViolations_SequentialUsesWithGrowingTokens_None()
    {
        var journal = new UsageJournal();
        journal.Add(new ChannelUse("a", 1, Start: 0, End: 10, Worker: 1, Released: true));
        journal.Add(new ChannelUse("a", 2, Start: 10, End: 20, Worker: 2, Released: true));
        journal.Add(new ChannelUse("b", 1, Start: 5, End: 15, Worker: 3, Released: true));

        journal.FindViolations().Should().BeEmpty();
        journal.StaleUses.Should().Be(0);
    }

    [Fact]
    public void FindViolations_NextGrantStartsBeforeAConfirmedReleaseEnded_Overlap()
    {
        var journal = new UsageJournal();
        journal.Add(new ChannelUse("a", 1, Start: 0, End: 100, Worker: 1, Released: true));
        journal.Add(new ChannelUse("a", 2, Start: 50, End: 60, Worker: 2, Released: true));

        journal.FindViolations().Should().ContainSingle().Which.Should().Match<(ChannelUse Earlier, ChannelUse Later, string Rule)>(v => v.Later.Worker == 2 && v.Rule == "overlap");
    }

    [Fact]
    public void FindViolations_KilledHolderCountsUntilItsDeadline_EarlierGrantIsAnOverlap()
    {
        var journal = new UsageJournal();
        journal.Add(new ChannelUse("a", 1, Start: 0, End: 900, Worker: 0, Released: true));
        journal.Add(new ChannelUse("a", 2, Start: 500, End: 510, Worker: 2, Released: true));

        journal.FindViolations().Should().ContainSingle().Which.Rule.Should().Be("overlap");
    }

    [Fact]
    public void FindViolations_HolderPausedPastItsLease_StaleNotAViolation()
    {
        var journal = new UsageJournal();
        journal.Add(new ChannelUse("a", 1, Start: 0, End: 800, Worker: 1, Released: false));
        journal.Add(new ChannelUse("a", 2, Start: 500, End: 510, Worker: 2, Released: true));

        journal.FindViolations().Should().BeEmpty("the lease was lost while paused; the higher fencing token protects downstream");
        journal.StaleUses.Should().Be(1);
    }

    [Fact]
    public void FindViolations_FencingTokenGrantedTwice_Found()
    {
        var journal = new UsageJournal();
        journal.Add(new ChannelUse("a", 5, Start: 0, End: 10, Worker: 1, Released: true));
        journal.Add(new ChannelUse("a", 5, Start: 20, End: 30, Worker: 2, Released: true));

        journal.FindViolations().Should().ContainSingle().Which.Rule.Should().Be("fencing token granted twice");
    }
}
