using System.Diagnostics;
using FluentAssertions;
using Leasing.Cli.Chaos;
using Xunit;

namespace Leasing.Cli.Tests.Chaos;

/// <summary>
/// The journal checks of <c>leasing chaos</c> on synthetic journals: each violation is counted, and
/// what a correct library does under faults is not. Times are milliseconds turned into Stopwatch ticks.
/// </summary>
public sealed class ChaosChecksTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly long Stopped = T(60_000);

    [Fact]
    public void Check_TwoCleanUsesOneAfterTheOther_NoViolation()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 100, process: 1, sent: 0, granted: 1, end: 10, released: true));
        journal.Add(Use("pool/ch-01", 200, process: 2, sent: 5, granted: 12, end: 20, released: true));

        var verdict = ChaosChecks.Check(journal, Lease, T(30));

        verdict.Violations.Should().Be(0, string.Join("\n", verdict.Details));
        verdict.Acquisitions.Should().Be(2);
    }

    [Fact]
    public void Check_TwoConfirmedHoldsOverlapping_CountsAnOverlap()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 100, process: 1, sent: 0, granted: 1, end: 50, released: true));
        journal.Add(Use("pool/ch-01", 200, process: 2, sent: 5, granted: 20, end: 60, released: true));

        var verdict = ChaosChecks.Check(journal, Lease, T(100));

        verdict.Overlaps.Should().Be(1);
        verdict.Violations.Should().Be(1);
    }

    [Fact]
    public void Check_KilledHolderHandedOutWithinItsFirstTerm_CountsAnOverlap()
    {
        var journal = new ChaosJournal();
        var killed = Use("lock/lock-1", 100, process: 1, sent: 0, granted: 1);
        killed.KilledAt = T(100);
        journal.Add(killed);
        journal.Add(Use("lock/lock-1", 200, process: 2, sent: 500, granted: 1_000, end: 1_010, released: true));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1, "the grant promised the key until 90 % of the lease after the acquire was sent");
    }

    [Fact]
    public void Check_GrantClaimedBeforeTheCallerAsked_FirstTermEndsAtTheHandleDeadline()
    {
        // The pool claimed the channel at 0 for a waiter that gave up and handed it to a caller that asked at
        // 330: the handle's deadline (1,800) is the promise, not the caller's call + 90 % of the lease (2,130).
        var journal = new ChaosJournal();
        var sent = ChaosChecks.ClaimSent(T(330), T(1_800), Lease);
        journal.Add(new ChaosUse { Key = "pool/ch-01", Token = 100, Process = 3, Sent = sent, Granted = T(1_200), Deadline = T(1_800), End = T(2_130), Released = false });
        journal.Add(Use("pool/ch-01", 200, process: 4, sent: 1_900, granted: 2_001, end: 2_010, released: true));

        sent.Should().BeCloseTo(T(0), 10);
        ChaosChecks.Check(journal, Lease, T(3_000)).Violations.Should().Be(0);
    }

    [Fact]
    public void Check_OtherHolderGrantedBeforeTheHandleDeadline_CountsAnOverlap()
    {
        // Renewed before the grant was read: the handle promised the key until 2,500.
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 100, process: 1, sent: 0, granted: 10, end: 3_000, released: false, deadline: 2_500));
        journal.Add(Use("pool/ch-01", 200, process: 2, sent: 2_100, granted: 2_200, end: 2_210, released: true));

        ChaosChecks.Check(journal, Lease, T(4_000)).Overlaps.Should().Be(1, "the handle's deadline is what the library promised the holder");
    }

    [Fact]
    public void Check_OverlapAForwardStepOfTheWallClockExplains_ReportedNotCounted()
    {
        // The first lease ended on the backend 2 s after its claim, on the backend's clock, and the second claim
        // read that clock past it; process 2 was granted at 520 on the monotonic clock, so the wall clock must have
        // stepped at least 2,000 - 520 = 1,480 ms forward in between. This host's watch measured 1.5 s.
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 2_000.1));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_000));

        verdict.Violations.Should().Be(0, string.Join("\n", verdict.Details));
        verdict.OverlapsExplainedByClock.Should().Be(1);
        verdict.ExplainedOverlaps.Should().ContainSingle().Which.Should().Contain("stepped 1.500 s forward");
    }

    [Fact]
    public void Check_BackendGrantedALeaseLiveOnItsOwnClock_CountedWhateverTheStep()
    {
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 1_900));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1, "the second claim read the backend's clock 0.1 s before the first lease's end on it");
    }

    [Theory]
    [InlineData(295, 300, 1_500, 0, "a 1.5 s step before the first renewal was due (667 ms) ended the lease on the backend before any renewal arrived")]
    [InlineData(895, 900, 1_500, 1, "a renewal due at 667 ms, before the step, may have moved the end on the backend with its answer lost")]
    [InlineData(295, 300, 1_000, 1, "after a 1 s step the lease still had 0.33 s on the backend when the first renewal arrived")]
    public void Check_LaterGrantAfterTheFirstRenewalWasDue_OnlyAnEarlyLongStepExplainsIt(double from, double at, double size, int overlaps, string because)
    {
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 2_000.1, granted: 1_200));
        journal.ClockStepped(new ChaosClockStep(T(from), T(at), T(size)));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(overlaps, because);
    }

    [Fact]
    public void Check_EarlierHolderHeardOfARenewal_TheStepMustCoverTheRenewedEnd()
    {
        // Renewed by 0.3 s on the backend's clock: the lease ended 2.3 s after its claim there, so 1,780 ms of step
        // are needed for the grant at 520; 1.5 s is not enough.
        var journal = new ChaosJournal();
        journal.Add(Earlier(renewedAfterMs: 300));
        journal.Add(Later(claimedAfterMs: 2_300.1));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1);
    }

    [Theory]
    [InlineData("no ExpiresAt journalled")]
    [InlineData("no end journalled")]
    [InlineData("later ExpiresAt read after a renewal")]
    public void Check_LeaseEndsUnknown_Counted(string what)
    {
        var journal = new ChaosJournal();
        var earlier = Earlier();
        var later = Later(claimedAfterMs: 2_000.1);
        journal.Add(what switch
        {
            "no ExpiresAt journalled" => Copy(earlier, expiresAt: 0),
            "no end journalled" => Copy(earlier, expiresAtEnd: null),
            _ => earlier,
        });
        journal.Add(what == "later ExpiresAt read after a renewal" ? Copy(later, expiresAt: later.ExpiresAt + 700_000) : later);
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1);
    }

    [Theory]
    [InlineData(295, 300, 1_000, "a step shorter than what the monotonic clock fell short of the lease (1,480 ms) does not explain it")]
    [InlineData(295, 300, 1_300, "a step as long as the overlap (1,280 ms) is not enough: the lease ran 2 s on the backend, the deadline 1.8 s here")]
    [InlineData(-110, -100, 1_500, "a step before the first acquire was sent is in the backend's time of its claim already: it shortens nothing")]
    [InlineData(600, 610, 1_500, "a step after the second grant cannot have let it in")]
    [InlineData(295, 300, -1_500, "a backward step makes leases last longer, never shorter")]
    public void Check_OverlapAClockStepDoesNotExplain_Counted(double from, double at, double size, string because)
    {
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 2_000.1));
        journal.ClockStepped(new ChaosClockStep(T(from), T(at), T(size)));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_000));

        verdict.Overlaps.Should().Be(1, because);
        verdict.OverlapsExplainedByClock.Should().Be(0);
    }

    [Fact]
    public void Check_OverlapWithoutAnyStep_CountedEvenWhenTheBackendActedByItsClock()
    {
        // A local deadline counted from too late (a library bug): the backend rightly ended the lease after 2 s,
        // the holder believed in it longer. No step of the clock explains that.
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 2_000.1));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1);
    }

    [Fact]
    public void Check_OverlapAcrossAForwardStepUndoneByABackwardOne_Counted()
    {
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        journal.Add(Later(claimedAfterMs: 2_000.1));
        journal.ClockStepped(new ChaosClockStep(T(195), T(200), T(3_000)));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(-3_000)));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(1, "the wall clock ends up where it would have been: the lease did not end early");
    }

    [Fact]
    public void Check_HolderKilledBeforeItCouldRenew_ItsOverlapExplainedByAStep()
    {
        var journal = new ChaosJournal();
        var earlier = Copy(Earlier(), expiresAtEnd: null, end: null);
        earlier.KilledAt = T(100);
        journal.Add(earlier);
        journal.Add(Later(claimedAfterMs: 2_000.1));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        ChaosChecks.Check(journal, Lease, T(3_000)).OverlapsExplainedByClock.Should().Be(1, "killed 100 ms after its acquire was sent, it renewed nothing: its lease's end is the one at the grant");
    }

    [Theory]
    [InlineData("released")]
    [InlineData("killed after it could renew")]
    [InlineData("backend on another host")]
    public void Check_OverlapTheClockCannotExplain_Counted(string why)
    {
        var journal = new ChaosJournal();
        var earlier = Earlier();
        if (why == "released")
        {
            // Its release compared the owner token after the second grant would have replaced it.
            earlier.Released = true;
        }

        if (why == "killed after it could renew")
        {
            earlier = Copy(earlier, expiresAtEnd: null, end: null);
            earlier.KilledAt = T(1_000);
        }

        journal.Add(earlier);
        journal.Add(Later(claimedAfterMs: 2_000.1));
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        ChaosChecks.Check(journal, Lease, T(3_000), clockWatched: why != "backend on another host").Overlaps.Should().Be(1);
    }

    [Fact]
    public void Check_GrantOverlappingAnExplainedHoldAndAConfirmedOne_Counted()
    {
        // The second holder's grant is explained against the first (stuck across the step); the third overlaps
        // both, and the second's release returned true: that overlap is the library's, whatever the first's.
        var journal = new ChaosJournal();
        journal.Add(Earlier());
        var second = Later(claimedAfterMs: 2_000.1);
        second.End = T(700);
        second.ReleasedAt = T(701);
        journal.Add(second);
        var third = Later(claimedAfterMs: 2_000.2);
        journal.Add(new ChaosUse { Key = third.Key, Token = third.Token, Process = 3, Sent = T(550), Granted = T(600), Deadline = T(2_350), ExpiresAt = third.ExpiresAt, End = T(610), ReleasedAt = T(611), Released = true, ExpiresAtEnd = third.ExpiresAt });
        journal.ClockStepped(new ChaosClockStep(T(295), T(300), T(1_500)));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_000));

        verdict.OverlapsExplainedByClock.Should().Be(1, "the second grant, against the first holder stuck across the step");
        verdict.Overlaps.Should().Be(1, "the third grant overlaps the second's confirmed hold");
        verdict.Details.Should().ContainSingle().Which.Should().Contain($"#{second.Token} by process 2");
    }

    [Fact]
    public void Check_ChannelIdleWhileABackwardStepOfTheWallClockHeldItOnTheServer_NotStranded()
    {
        // A holder killed at 10 held its channel on the server 3 s past its lease: the wall clock went 3 s back
        // at 500. Without the step, the 3.59 s from its lease's end (2,010) to the next grant (5,600) are stranded.
        var journal = new ChaosJournal();
        var killed = Use("pool/ch-01", 1, process: 1, sent: 0, granted: 1);
        killed.KilledAt = T(10);
        journal.Add(killed);
        journal.Fault(new ChaosFault(FaultKinds.Kill, T(10), T(10), 1, ["pool/ch-01"]));
        journal.ClockStepped(new ChaosClockStep(T(495), T(500), T(-3_000)));
        journal.Add(Use("pool/ch-01", 2, process: 2, sent: 0, granted: 5_600, end: 5_610, released: true, releasedAt: 5_611));

        var verdict = ChaosChecks.Check(journal, Lease, T(5_700));
        verdict.Stranded.Should().Be(0, string.Join("\n", verdict.Details));

        var unstepped = new ChaosJournal();
        unstepped.Add(killed);
        unstepped.Fault(new ChaosFault(FaultKinds.Kill, T(10), T(10), 1, ["pool/ch-01"]));
        unstepped.Add(Use("pool/ch-01", 2, process: 2, sent: 0, granted: 5_600, end: 5_610, released: true, releasedAt: 5_611));
        ChaosChecks.Check(unstepped, Lease, T(5_700)).Stranded.Should().Be(1, "the same gap without the step is stranded");
    }

    [Fact]
    public void DeadlineAtGrant_TimeLeft_CountsFromTheGrant()
    {
        ChaosChecks.DeadlineAtGrant(T(330), T(1_200), TimeSpan.FromMilliseconds(600), Lease).Should().BeCloseTo(T(1_800), 10);
    }

    [Fact]
    public void DeadlineAtGrant_NothingLeft_FallsBackToTheCallersCall()
    {
        // A grant found lost before the holder looked still promised the key for its first term.
        ChaosChecks.DeadlineAtGrant(T(330), T(1_200), TimeSpan.Zero, Lease).Should().BeCloseTo(T(2_130), 10);
    }

    [Fact]
    public void ClaimSent_OwnAcquire_IsTheCallersCall()
    {
        ChaosChecks.ClaimSent(T(10), T(1_850), Lease).Should().Be(T(10));
    }

    [Fact]
    public void Check_KilledHolderHandedOutAfterItsLease_NoOverlap()
    {
        var journal = new ChaosJournal();
        var killed = Use("lock/lock-1", 100, process: 1, sent: 0, granted: 1);
        killed.KilledAt = T(100);
        journal.Add(killed);
        journal.Add(Use("lock/lock-1", 200, process: 2, sent: 500, granted: 2_010, end: 2_020, released: true));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(0);
    }

    [Fact]
    public void Check_HolderKilledAfterItsWrite_MayHaveReleased_NoOverlap()
    {
        var journal = new ChaosJournal();
        var killed = Use("lock/lock-1", 100, process: 1, sent: 0, granted: 1);
        killed.WrittenAt = T(10);
        killed.KilledAt = T(20);
        journal.Add(killed);
        journal.Add(Use("lock/lock-1", 200, process: 2, sent: 5, granted: 15, end: 30, released: true));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(0, "its release may have reached the server before the kill");
    }

    [Fact]
    public void Check_OverlapAcrossARestartThatLostTheData_NotCounted()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 100, process: 1, sent: 0, granted: 1, end: 1_500, released: false));
        journal.Add(Use("pool/ch-01", 200, process: 2, sent: 300, granted: 400, end: 410, released: true));
        journal.Fault(new ChaosFault(FaultKinds.Restart, T(200), T(250), null, [], LosesData: true));

        ChaosChecks.Check(journal, Lease, T(3_000)).Overlaps.Should().Be(0, "the README allows an overlap after Redis lost its data; fencing covers it");
    }

    [Fact]
    public void Check_TokenLowerThanAnEarlierGrant_CountsFencingNotGrowing()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 500, process: 1, sent: 0, granted: 1, end: 10, released: true));
        journal.Add(Use("pool/ch-01", 400, process: 2, sent: 11, granted: 12, end: 20, released: true));

        ChaosChecks.Check(journal, Lease, T(100)).FencingNotGrowing.Should().Be(1);
    }

    [Fact]
    public void Check_ConcurrentAcquiresInAnyTokenOrder_NoFencingViolation()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 500, process: 1, sent: 0, granted: 10, end: 11, released: true));
        journal.Add(Use("pool/ch-01", 400, process: 2, sent: 5, granted: 12, end: 20, released: true));

        ChaosChecks.Check(journal, Lease, T(100)).FencingNotGrowing.Should().Be(0, "the second acquire was sent before the first returned: either may have been granted first");
    }

    [Fact]
    public void Check_OneTokenGrantedTwice_CountsFencing()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 500, process: 1, sent: 0, granted: 10, end: 11, released: true));
        journal.Add(Use("pool/ch-01", 500, process: 2, sent: 5, granted: 12, end: 20, released: true));

        ChaosChecks.Check(journal, Lease, T(100)).FencingNotGrowing.Should().Be(1);
    }

    [Fact]
    public void FencedSink_ZombieWritesAfterAGrowingSuccessor_Rejected()
    {
        var journal = new ChaosJournal();
        journal.Begin(Use("lock/lock-1", 100, process: 1, sent: 0, granted: 1)).Should().BeTrue();
        journal.Begin(Use("lock/lock-1", 200, process: 2, sent: 2_100, granted: 2_101)).Should().BeTrue();

        journal.Write(1, "lock/lock-1", 100, T(3_000)).Should().BeFalse("the zombie's token is older than the successor's");
        var verdict = ChaosChecks.Check(journal, Lease, T(4_000));
        verdict.ZombieWritesRejected.Should().Be(1);
        verdict.ZombieWritesAccepted.Should().Be(0);
    }

    [Fact]
    public void FencedSink_ZombieWriteAcceptedBecauseTheSuccessorsTokenDidNotGrow_Counted()
    {
        var journal = new ChaosJournal();
        journal.Begin(Use("lock/lock-1", 100, process: 1, sent: 0, granted: 1));
        journal.Begin(Use("lock/lock-1", 90, process: 2, sent: 2_100, granted: 2_101)).Should().BeFalse();

        journal.Write(1, "lock/lock-1", 100, T(3_000)).Should().BeTrue();
        ChaosChecks.Check(journal, Lease, T(4_000)).ZombieWritesAccepted.Should().Be(1);
    }

    [Fact]
    public void FencedSink_LateGrantBeginsAfterAWriterThatWasGrantedLater_NoZombieCounted()
    {
        // Holder 2's grant reached it late (delayed reply): it begins after holder 1, whose acquire
        // it did not follow; holder 1's write is accepted and holder 2 is the zombie.
        var journal = new ChaosJournal();
        journal.Begin(Use("lock/lock-1", 200, process: 1, sent: 3_000, granted: 3_001));
        journal.Begin(Use("lock/lock-1", 100, process: 2, sent: 0, granted: 3_002)).Should().BeFalse();

        journal.Write(1, "lock/lock-1", 200, T(3_010)).Should().BeTrue();
        journal.Write(2, "lock/lock-1", 100, T(3_011)).Should().BeFalse();
        var verdict = ChaosChecks.Check(journal, Lease, T(4_000));
        verdict.ZombieWritesAccepted.Should().Be(0);
        verdict.ZombieWritesRejected.Should().Be(1);
    }

    [Fact]
    public void Check_PaymentChargedTwiceAfterACleanExecution_CountsADoublePayment()
    {
        var journal = new ChaosJournal();
        journal.Charge(new ChaosCharge("pay-1", 10, 1, T(100)));
        journal.Executed(new ChaosExecution("pay-1", 10, 1, ExecutionOutcomes.Unavailable, T(150)));
        journal.Charge(new ChaosCharge("pay-1", 20, 2, T(2_200)));
        journal.Executed(new ChaosExecution("pay-1", 20, 2, ExecutionOutcomes.Executed, T(2_210)));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_000));

        verdict.PaymentsExecutedTwice.Should().Be(1, "a lost completion must not let a duplicate run the payment again");
        verdict.PaymentExecutions.Should().Be(2);
        verdict.PaymentKeys.Should().Be(1);
    }

    [Theory]
    [InlineData("claim-lost")]
    [InlineData("replayed-after-its-own-run")]
    [InlineData("killed")]
    [InlineData("paused")]
    [InlineData("data-lost")]
    public void Check_PaymentRunAgainAfterItsClaimWasProvablyLost_Excused(string why)
    {
        var journal = new ChaosJournal();
        journal.Charge(new ChaosCharge("pay-1", 10, 1, T(100)));
        if (why != "killed")
        {
            var outcome = why switch
            {
                "claim-lost" => ExecutionOutcomes.ClaimLost,
                "replayed-after-its-own-run" => ExecutionOutcomes.Replayed,
                _ => ExecutionOutcomes.Executed,
            };
            journal.Executed(new ChaosExecution("pay-1", 10, 1, outcome, T(why is "paused" or "replayed-after-its-own-run" ? 3_000 : 150)));
        }

        switch (why)
        {
            case "killed":
                journal.Fault(new ChaosFault(FaultKinds.Kill, T(120), T(120), 1, []));
                break;
            case "paused":
                journal.Fault(new ChaosFault(FaultKinds.Pause, T(110), T(2_900), 1, []));
                break;
            case "data-lost":
                journal.Fault(new ChaosFault(FaultKinds.Restart, T(1_000), T(1_100), null, [], LosesData: true));
                break;

        }

        journal.Charge(new ChaosCharge("pay-1", 20, 2, T(2_200)));

        var verdict = ChaosChecks.Check(journal, Lease, T(4_000));
        verdict.PaymentsExecutedTwice.Should().Be(0, string.Join("\n", verdict.Details));
        verdict.PaymentRerunsExcused.Should().Be(1);
    }

    [Fact]
    public void Check_StaleChargeAfterANewerClaim_RefusedNotCounted()
    {
        var journal = new ChaosJournal();
        journal.Charge(new ChaosCharge("pay-1", 20, 2, T(100)));
        journal.Charge(new ChaosCharge("pay-1", 10, 1, T(200)));

        var verdict = ChaosChecks.Check(journal, Lease, T(1_000));
        verdict.PaymentsExecutedTwice.Should().Be(0);
        verdict.PaymentChargesRejected.Should().Be(1);
    }

    [Fact]
    public void Check_ChannelIdlePastALeaseWithWaiters_CountsStranded()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 1, process: 1, sent: 0, granted: 1, end: 10, released: true, releasedAt: 11));
        journal.Add(Use("pool/ch-01", 2, process: 2, sent: 0, granted: 3_600, end: 3_610, released: true, releasedAt: 3_611));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_700));
        verdict.Stranded.Should().Be(1);
        verdict.LongestStrandMs.Should().BeApproximately(3_589, 1);
    }

    [Fact]
    public void Check_ChannelIdleForHalfALeaseAwayFromFaults_CountsStranded()
    {
        // A cancelled acquire whose grant landed: nobody owns it, the channel sits idle until it expires.
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 1, process: 1, sent: 0, granted: 1, end: 10, released: true, releasedAt: 11));
        journal.Add(Use("pool/ch-01", 2, process: 2, sent: 0, granted: 2_011, end: 2_020, released: true, releasedAt: 2_021));

        ChaosChecks.Check(journal, Lease, T(2_100)).Stranded.Should().Be(1);
    }

    [Fact]
    public void Check_ChannelIdleWhileItsKilledHolderLeaseRunsOutThenRightAfterAnOutage_NotStranded()
    {
        var journal = new ChaosJournal();
        var killed = Use("pool/ch-01", 1, process: 1, sent: 0, granted: 1);
        killed.KilledAt = T(10);
        journal.Add(killed);
        journal.Fault(new ChaosFault(FaultKinds.Kill, T(10), T(10), 1, ["pool/ch-01"]));
        journal.Add(Use("pool/ch-01", 2, process: 2, sent: 0, granted: 2_050, end: 2_060, released: true, releasedAt: 2_061));
        journal.Fault(new ChaosFault(FaultKinds.Stall, T(2_100), T(3_500), null, [], Outage: true));
        journal.Add(Use("pool/ch-01", 3, process: 2, sent: 2_070, granted: 3_700, end: 3_710, released: true, releasedAt: 3_711));

        var verdict = ChaosChecks.Check(journal, Lease, T(3_800));
        verdict.Stranded.Should().Be(0, string.Join("\n", verdict.Details));
        verdict.Recovery[FaultKinds.Kill].P50Ms.Should().BeApproximately(2_040, 1);
    }

    [Fact]
    public void Check_Recovery_MeasuresUntilTheNextGrantSentAfterTheFault()
    {
        var journal = new ChaosJournal();
        journal.Add(Use("pool/ch-01", 1, process: 1, sent: 0, granted: 1, end: 2, released: true, releasedAt: 3));
        journal.Add(Use("lock/lock-1", 2, process: 1, sent: 0, granted: 1, end: 2, released: true, releasedAt: 3));
        journal.Fault(new ChaosFault(FaultKinds.Drop, T(100), T(100), null, []));
        journal.Add(Use("pool/ch-01", 3, process: 1, sent: 50, granted: 400, end: 410, released: true, releasedAt: 411));
        journal.Add(Use("pool/ch-02", 4, process: 2, sent: 150, granted: 300, end: 310, released: true, releasedAt: 311));
        journal.Add(Use("lock/lock-1", 5, process: 2, sent: 200, granted: 700, end: 710, released: true, releasedAt: 711));
        journal.Cancelled(new ChaosCancel("lock/lock-1", 3, T(150)));

        var verdict = ChaosChecks.Check(journal, Lease, T(800));
        verdict.Recovery[FaultKinds.Drop].P50Ms.Should().BeApproximately(600, 1, "the pool came back at 300 ms (an acquire sent after the drop), the lock at 700 ms");
        verdict.Recovery[FaultKinds.Cancel].P50Ms.Should().BeApproximately(550, 1);
    }

    private static long T(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    // The backend's clock (µs since the Unix epoch) when the first of two holders of pool/ch-01 claimed it; fencing
    // tokens are that clock at each claim, as on every backend (max(last + 1, now)).
    private const long BackendClaim = 1_796_320_070_000_000;

    // Acquire sent at 0, granted at 10, stuck until 2,000 (its release then returned false); claimed at BackendClaim
    // for 2 s on the backend's clock, renewed by renewedAfterMs of it as far as the holder heard.
    private static ChaosUse Earlier(double? renewedAfterMs = null) => Copy(
        Use("pool/ch-01", BackendClaim, process: 1, sent: 0, granted: 10, end: 2_000, released: false),
        expiresAt: BackendClaim + 2_000_000,
        expiresAtEnd: BackendClaim + 2_000_000 + (long)((renewedAfterMs ?? 0) * 1_000));

    // Acquire sent at 400, granted at 520 (or granted), released at once; claimed claimedAfterMs after the first on the
    // backend's clock.
    private static ChaosUse Later(double claimedAfterMs, double granted = 520)
    {
        var claimed = BackendClaim + (long)(claimedAfterMs * 1_000);
        return Copy(Use("pool/ch-01", claimed, process: 2, sent: 400, granted: granted, end: granted + 10, released: true), expiresAt: claimed + 2_000_000, expiresAtEnd: claimed + 2_000_000);
    }

    private static ChaosUse Copy(ChaosUse use, long? expiresAt = null, long? expiresAtEnd = -1, long? end = -1) => new()
    {
        Key = use.Key,
        Token = use.Token,
        Process = use.Process,
        Sent = use.Sent,
        Granted = use.Granted,
        Deadline = use.Deadline,
        End = end == -1 ? use.End : end,
        ReleasedAt = end == -1 ? use.ReleasedAt : end,
        Released = use.Released,
        ExpiresAt = expiresAt ?? use.ExpiresAt,
        ExpiresAtEnd = expiresAtEnd == -1 ? use.ExpiresAtEnd : expiresAtEnd,
    };

    private static ChaosUse Use(string key, long token, int process, double sent, double granted, double? end = null, bool? released = null, double? releasedAt = null, double? deadline = null) => new()
    {
        Key = key,
        Token = token,
        Process = process,
        Sent = T(sent),
        Granted = T(granted),
        Deadline = T(deadline ?? (sent + 1_800)),
        End = end is { } e ? T(e) : null,
        ReleasedAt = releasedAt is { } r ? T(r) : end is { } e2 ? T(e2) : null,
        Released = released,
    };
}
