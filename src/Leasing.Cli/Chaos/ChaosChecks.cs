using System.Diagnostics;
using System.Globalization;

namespace Leasing.Cli.Chaos;

/// <summary>Recovery after one fault kind: how many of its faults were followed by a grant, p50/p99 of the wait, and how many never were.</summary>
internal sealed record RecoveryFigure(int Recovered, double P50Ms, double P99Ms, int NotRecovered);

/// <summary>The figures and violations a chaos run's journal shows (see <see cref="ChaosChecks"/>).</summary>
internal sealed record ChaosVerdict(
    int Acquisitions,
    int PoolAcquisitions,
    int LockAcquisitions,
    int Overlaps,
    int ZombieWritesRejected,
    int ZombieWritesAccepted,
    int FencingNotGrowing,
    int StateWritesStored,
    int StateWritesRefused,
    int SequenceRepeats,
    int PaymentKeys,
    int PaymentExecutions,
    int PaymentChargesRejected,
    int PaymentsExecutedTwice,
    int PaymentRerunsExcused,
    int PaymentCallersCancelled,
    int Stranded,
    double LongestStrandMs,
    int OverlapsExplainedByClock,
    IReadOnlyList<string> ExplainedOverlaps,
    IReadOnlyList<ChaosClockStep> ClockSteps,
    IReadOnlyDictionary<string, RecoveryFigure> Recovery,
    IReadOnlyList<string> Details)
{
    public int Violations => Overlaps + ZombieWritesAccepted + FencingNotGrowing + SequenceRepeats + PaymentsExecutedTwice + Stranded;
}

/// <summary>
/// The checks of a chaos run, over its <see cref="ChaosJournal"/>. Every rule here must hold for a
/// correct library whatever the faults did; each one is a promise of the README.
/// </summary>
/// <remarks>
/// <para><b>When a lease was provably valid.</b> A use's lease was valid from its grant to the end of
/// its work when the release afterwards returned true: the release is a compare-and-set on the owner
/// token, and any other grant of the key would have replaced the token. Otherwise (the holder was
/// killed, paused, found its lease lost, or its release failed or returned false) only its first lease
/// term is certain: the grant promises the key until the handle's local deadline as it stood at the
/// grant (<c>TimeLeft</c>), which is the acquire's sending + 90 % of the lease (the library's own safety
/// margin below the backend's expiry). The acquire may have been sent before this caller asked: a pool
/// hands a grant claimed for a waiter that gave up to the next one. A restart that lost the
/// backend's data (Redis without persistence) voids that promise for the uses it overlaps: the README
/// says two holders can overlap then, and only fencing protects downstream writes.</para>
/// <para><b>Overlapping holds among live holders</b>: two uses of one key whose provably valid
/// intervals (above) overlap. Not counted (but reported) when a forward step of the backend's wall clock, which
/// decides expiry, explains it: the backend ended the earlier lease early by its own clock, a limit the README
/// states (see <see cref="ExplainedByTheClock"/>).</para>
/// <para><b>Fencing tokens that did not grow</b>: use A was granted before use B when A's acquire
/// returned before B's was sent; B's token must then exceed A's (also across kills, expiries and
/// restarts that lost data), and no token is granted twice.</para>
/// <para><b>Zombie writes accepted</b>: the fenced sink (see <see cref="FencedSink"/>) accepted a write
/// although another holder of the key had begun after the writer did: that holder's token did not
/// exceed the writer's.</para>
/// <para><b>Sequence numbers used twice</b>: every holder reads its resource's fenced state (the next
/// sequence number), and stores the next one after its work, accepted by the backend only under a live
/// lease. Two stored writes of one number for one resource mean two holders read the same state and
/// both stored after it: a write under a dead lease got through. Excused only when a restart that lost
/// the backend's data (the state with it) fell between them.</para>
/// <para><b>Payments executed more than once</b>: the payment sink accepts a charge only with a claim
/// token at least the highest it saw for the key. Two accepted charges of one key are a violation
/// unless the earlier one's claim was provably lost before its outcome could be stored: its call ended
/// with <see cref="IdempotencyClaimLostException"/> or replaying a successor's outcome after its own
/// action ran, its process was killed or paused after the charge
/// and before the call ended, or a restart lost the backend's data in between. (A claim that a forward step of
/// the wall clock ended early on the server is lost like any other: its call ends with the claim lost.)</para>
/// <para><b>Stranded</b>: a channel or lock key free of every known holder (a use covers it from its
/// grant to its release, or to LeaseDuration past its last sign of life when it did not release
/// cleanly) for longer than LeaseDuration + <see cref="ChaosSettings.StrandedMargin"/> while the
/// backend answered (outages: a stall, delayed replies, a drop or a restart, on SQLite a pause, plus
/// <see cref="ChaosSettings.Settle"/> to reconnect, and a backward step of the wall clock, which keeps keys
/// held on the server longer by the step, do not count), or for longer than
/// <see cref="ChaosSettings.StrandedAfter"/> away from any fault (a fault's shadow lasts until
/// LeaseDuration + Settle after it ends: it may leave grants nobody saw, which expire within a
/// lease). Every resource always has waiters (more tasks than channels; tasks bound to each lock
/// key), so such a stretch means nobody could acquire it: a grant nobody owns (a cancelled
/// acquire's), or a pool that lost its members.</para>
/// </remarks>
internal static class ChaosChecks
{
    private const int MaxDetails = 10;

    /// <summary>What the clock steps the watch measured may fall short of the step an overlap needs by: a drift below its threshold goes unrecorded.</summary>
    private static readonly TimeSpan ClockStepTolerance = ClockWatch.Threshold + TimeSpan.FromMilliseconds(5);

    /// <param name="clockWatched">Whether the backend's clock is this host's, which the journal's clock steps were measured on.</param>
    public static ChaosVerdict Check(ChaosJournal journal, TimeSpan leaseDuration, long stoppedAt, long epoch = 0, bool clockWatched = true)
    {
        var lease = Ticks(leaseDuration);
        var details = new List<string>();
        var uses = journal.Uses;
        var dataLoss = journal.Faults.Where(f => f.LosesData).ToList();

        var explainedDetails = new List<string>();
        var (overlaps, explained) = Overlaps(uses, lease, dataLoss, clockWatched ? journal.ClockSteps : [], details, explainedDetails);
        var fencing = FencingNotGrowing(uses, details);
        var zombiesAccepted = journal.Writes.Count(w => w.Accepted && w.SuccessorBegan);
        foreach (var write in journal.Writes.Where(w => w.Accepted && w.SuccessorBegan).Take(MaxDetails))
        {
            details.Add($"zombie write accepted: {write.Key} token {write.Token} by process {write.Process} after another holder began");
        }

        var repeats = SequenceRepeats(journal, dataLoss, details);
        var payments = Payments(journal, details);
        var (stranded, longest) = Stranded(journal, lease, stoppedAt, epoch, details);
        return new ChaosVerdict(
            uses.Count,
            uses.Count(u => u.Resource == ChaosKeys.PoolResource),
            uses.Count(u => u.Resource != ChaosKeys.PoolResource),
            overlaps,
            journal.Writes.Count(w => !w.Accepted),
            zombiesAccepted,
            fencing,
            journal.Sequences.Count(s => s.Stored),
            journal.Sequences.Count(s => !s.Stored),
            repeats,
            payments.Keys,
            payments.Accepted,
            payments.Rejected,
            payments.Twice,
            payments.Excused,
            journal.Cancels.Count(c => c.Resource == "payment"),
            stranded,
            longest,
            explained,
            explainedDetails,
            journal.ClockSteps,
            Recovery(journal),
            details);
    }

    /// <summary>Stored sequence numbers used twice for one resource with no data-losing restart between the two uses.</summary>
    private static int SequenceRepeats(ChaosJournal journal, List<ChaosFault> dataLoss, List<string> details)
    {
        var repeats = 0;
        foreach (var group in journal.Sequences.Where(s => s.Stored).GroupBy(s => (s.Key, s.Sequence)))
        {
            var writes = group.OrderBy(s => s.StoredAt).ToList();
            for (var i = 1; i < writes.Count; i++)
            {
                var (earlier, later) = (writes[i - 1], writes[i]);
                var from = Math.Min(earlier.ReadAt, later.ReadAt);
                var to = Math.Max(earlier.StoredAt, later.StoredAt);
                if (dataLoss.Any(f => f.Start <= to && f.End >= from))
                {
                    continue;
                }

                repeats++;
                if (details.Count < MaxDetails * 4)
                {
                    details.Add($"sequence number used twice: {group.Key.Key} #{group.Key.Sequence} stored under token {earlier.Token} (process {earlier.Process}) and {later.Token} (process {later.Process})");
                }
            }
        }

        return repeats;
    }

    /// <summary>
    /// The handle's local deadline at the grant, from its <c>TimeLeft</c> read at <paramref name="granted"/>.
    /// Zero left (the grant was found lost, or its deadline passed, before the holder looked) says nothing
    /// about when the claim was sent: the caller's own call + 90 % of the lease stands in for it then.
    /// </summary>
    public static long DeadlineAtGrant(long asked, long granted, TimeSpan timeLeft, TimeSpan leaseDuration) =>
        timeLeft > TimeSpan.Zero ? granted + Ticks(timeLeft) : asked + (Ticks(leaseDuration) * 9 / 10);

    /// <summary>
    /// When the acquire behind a grant was sent: the caller's own call (<paramref name="callerSent"/>), or
    /// earlier when the handle's deadline at the grant says so (a pool handed the caller a grant it claimed
    /// for a waiter ahead that gave up, or one a release in its process took for the first waiter).
    /// </summary>
    public static long ClaimSent(long callerSent, long deadline, TimeSpan leaseDuration) =>
        Math.Min(callerSent, deadline - (Ticks(leaseDuration) * 9 / 10));

    /// <summary>
    /// The end of the interval over which <paramref name="use"/>'s lease was provably valid: the end
    /// of its work when the release confirmed it; else its first term (up to the handle's deadline at the
    /// grant), cut where it may have begun to release (after its fenced write: a release whose answer was
    /// lost, or that a kill cut off from the journal, may have freed the key).
    /// </summary>
    public static long ValidUntil(ChaosUse use)
    {
        if (use is { Released: true, End: { } end, KilledAt: null })
        {
            return end;
        }

        return (use.End ?? use.WrittenAt) is { } releasing ? Math.Min(use.Deadline, releasing) : use.Deadline;
    }

    private static (int Count, int Explained) Overlaps(IReadOnlyList<ChaosUse> uses, long lease, List<ChaosFault> dataLoss, IReadOnlyList<ChaosClockStep> clockSteps, List<string> details, List<string> explainedDetails)
    {
        int count = 0, explained = 0;
        foreach (var key in uses.GroupBy(u => u.Key, StringComparer.Ordinal))
        {
            var intervals = key
                .Select(u => (Use: u, Start: u.Granted, End: ValidUntil(u)))
                .Where(i => i.End > i.Start && !dataLoss.Any(f => f.Start <= i.End && f.End >= i.Use.Sent))
                .OrderBy(i => i.Start)
                .ToList();

            // Every earlier interval still open at a grant is checked against it (not only the longest), so an
            // overlap the clock explains never hides another with a different holder.
            var open = new List<(ChaosUse Use, long End)>();
            foreach (var (use, start, end) in intervals)
            {
                open.RemoveAll(o => o.End <= start);
                string? unexplained = null;
                string? why = null;
                foreach (var (earlier, earlierEnd) in open)
                {
                    var overlap = $"overlap: {earlier} valid until {Seconds(earlierEnd - start)} s after {use} was granted";
                    if (ExplainedByTheClock(earlier, use, lease, clockSteps) is { } reason)
                    {
                        why ??= $"{overlap}: {reason}";
                    }
                    else
                    {
                        unexplained ??= overlap;
                    }
                }

                if (unexplained is not null)
                {
                    count++;
                    Detail(details, unexplained);
                }
                else if (why is not null)
                {
                    explained++;
                    if (explainedDetails.Count < MaxDetails)
                    {
                        explainedDetails.Add(why);
                    }
                }

                open.Add((use, end));
            }
        }

        return (count, explained);
    }

    /// <summary>
    /// Why a forward step of the backend's wall clock, which decides expiry, explains that <paramref name="later"/> was
    /// granted before <paramref name="earlier"/>'s local deadline (on the monotonic clock), or <see langword="null"/>.
    /// </summary>
    /// <remarks>
    /// Three things must hold. The backend acted by its own clock: the later claim read that clock (its
    /// <c>ExpiresAt</c> - the lease) at or past the earlier lease's end on it, renewals the holder heard of included;
    /// so this is not a backend that granted a live lease. And this host's wall clock, which is the backend's (see
    /// <see cref="ClockWatch"/>; only for a backend on this host), stepped forward, between the earlier acquire and
    /// the later grant, by what the monotonic clock fell short of that end; so this is not a local deadline counted
    /// wrongly, which no step explains. And no renewal can have moved that end unseen (its answer lost): the later
    /// grant came before the first renewal was due, or a step of two thirds of a lease came before it. Never for a
    /// release that returned true (it compared the owner token after the later grant would have replaced it), nor for
    /// a holder killed after it could have renewed (its renewals are unknown).
    /// </remarks>
    public static string? ExplainedByTheClock(ChaosUse earlier, ChaosUse later, long lease, IReadOnlyList<ChaosClockStep> clockSteps)
    {
        // The acquire the holder's deadline at the grant counts from, sent then on the monotonic clock; the backend read
        // its clock for it at ExpiresAt - the lease. An ExpiresAt read after a renewal (its clock read past the fencing
        // token, which is at least the claim's) or a confirmed release is not used.
        var basis = earlier.Deadline - (lease * 9 / 10);
        if (earlier.Released == true || !FromTheClaim(earlier, lease) || !FromTheClaim(later, lease) || EndAsKnown(earlier, basis, lease) is not { } earlierEnd)
        {
            return null;
        }

        var laterClaim = later.ExpiresAt - Micros(lease);
        if (laterClaim < earlierEnd)
        {
            return null;
        }

        // A renewal whose answer never came back may have moved the end on the backend unseen. None can have: the later
        // grant came before the first renewal was due (a third of a lease after the basis), or the wall clock had stepped
        // forward by two thirds of a lease before then, so the lease was over on the backend when any renewal arrived.
        var firstRenewal = basis + (lease / 3);
        var steppedEarly = clockSteps.Where(c => c.From > basis && c.At <= firstRenewal).Sum(c => c.Size);
        if (later.Granted > firstRenewal && steppedEarly < (lease * 2 / 3) - Ticks(ClockStepTolerance))
        {
            return null;
        }

        // Had the clocks agreed, the lease would have ended on the backend at its basis + the time it was held there
        // (a lease, and the renewals the holder heard of); the steps must make up what the later grant fell short of it.
        var needed = basis + FromMicros(earlierEnd - earlier.ExpiresAt) + lease - later.Granted;
        var stepped = clockSteps.Where(c => c.From < later.Granted && c.At > basis).Sum(c => c.Size);
        if (stepped <= 0 || stepped < needed - Ticks(ClockStepTolerance))
        {
            return null;
        }

        return $"this host's wall clock stepped {Seconds(stepped)} s forward in between (at least {Seconds(Math.Max(0, needed))} s needed), and the backend's clock read {Seconds(FromMicros(laterClaim - earlierEnd))} s past the earlier lease's end at the later claim";
    }

    /// <summary>Whether the use's ExpiresAt at the grant is its claim's: the backend's clock read for it is at most its fencing token.</summary>
    private static bool FromTheClaim(ChaosUse use, long lease) => use.ExpiresAt != 0 && use.ExpiresAt - Micros(lease) <= use.Token;

    /// <summary>
    /// The earlier lease's end on the backend's clock (µs) as its holder knew it after its release, renewals included;
    /// for a killed holder, the end at the grant when it died before a renewal could be sent (a third of a lease after the
    /// basis), else unknown.
    /// </summary>
    private static long? EndAsKnown(ChaosUse use, long basis, long lease) => use switch
    {
        { KilledAt: { } killed } => killed < basis + (lease / 3) ? use.ExpiresAt : null,
        _ => use.ExpiresAtEnd,
    };

    private static int FencingNotGrowing(IReadOnlyList<ChaosUse> uses, List<string> details)
    {
        var flagged = new HashSet<ChaosUse>();
        foreach (var key in uses.GroupBy(u => u.Key, StringComparer.Ordinal))
        {
            var byGrant = key.OrderBy(u => u.Granted).ToArray();
            var grants = byGrant.Select(u => u.Granted).ToArray();
            var highest = new ChaosUse[byGrant.Length];
            for (var i = 0; i < byGrant.Length; i++)
            {
                highest[i] = i == 0 || byGrant[i].Token > highest[i - 1].Token ? byGrant[i] : highest[i - 1];
            }

            foreach (var use in byGrant)
            {
                // Uses whose acquire returned before this one's was sent were surely granted first.
                var before = LowerBound(grants, use.Sent);
                if (before > 0 && use.Token <= highest[before - 1].Token && flagged.Add(use))
                {
                    Detail(details, $"fencing token did not grow: {use} was granted after {highest[before - 1]}");
                }
            }

            foreach (var same in key.GroupBy(u => u.Token).Where(g => g.Count() > 1))
            {
                foreach (var use in same.Skip(1).Where(flagged.Add))
                {
                    Detail(details, $"fencing token granted twice: {use} and {same.First()}");
                }
            }
        }

        return flagged.Count;
    }

    private static (int Keys, int Accepted, int Rejected, int Twice, int Excused) Payments(ChaosJournal journal, List<string> details)
    {
        var calls = journal.Executions.Where(e => e.Token != 0).GroupBy(e => (e.Process, e.Key, e.Token)).ToDictionary(g => g.Key, g => g.First());
        var keys = journal.Executions.Select(e => e.Key).Concat(journal.Charges.Select(c => c.Key)).Distinct(StringComparer.Ordinal).Count();
        int accepted = 0, rejected = 0, twice = 0, excused = 0;
        foreach (var key in journal.Charges.GroupBy(c => c.Key, StringComparer.Ordinal))
        {
            // The payment provider is fenced too: a charge under an older claim than one it took is refused.
            var taken = new List<ChaosCharge>();
            foreach (var charge in key.OrderBy(c => c.At))
            {
                if (taken.Count > 0 && charge.Token < taken.Max(c => c.Token))
                {
                    rejected++;
                    continue;
                }

                taken.Add(charge);
            }

            accepted += taken.Count;
            var violation = false;
            for (var j = 1; j < taken.Count; j++)
            {
                var unexcused = taken.Take(j).FirstOrDefault(earlier => !Excused(journal, calls, earlier, taken[j].At));
                if (unexcused is null)
                {
                    excused++;
                }
                else if (!violation)
                {
                    violation = true;
                    var outcome = calls.TryGetValue((unexcused.Process, unexcused.Key, unexcused.Token), out var call) ? call.Outcome : "no outcome";
                    Detail(details, $"payment executed twice: {key.Key} by process {unexcused.Process} (claim {unexcused.Token}, its call ended: {outcome}) and again by process {taken[j].Process} (claim {taken[j].Token})");
                }
            }

            twice += violation ? 1 : 0;
        }

        return (keys, accepted, rejected, twice, excused);
    }

    /// <summary>Whether the claim <paramref name="charge"/> ran under was provably lost before <paramref name="before"/>, so running again was allowed.</summary>
    private static bool Excused(ChaosJournal journal, Dictionary<(int, string, long), ChaosExecution> calls, ChaosCharge charge, long before)
    {
        var call = calls.GetValueOrDefault((charge.Process, charge.Key, charge.Token));

        // The call whose own action charged under this claim ended replaying another outcome: the
        // executor found, when it stored its outcome, that a successor had taken the key over and
        // stored one (IdempotentExecutor replays it then, by design): the claim was lost.
        if (call?.Outcome is ExecutionOutcomes.ClaimLost or ExecutionOutcomes.Replayed)
        {
            return true;
        }

        var callEnd = call?.At ?? long.MaxValue;
        return journal.Faults.Any(f =>
            (f.LosesData && f.Start <= before && f.End >= charge.At) ||
            (f.Process == charge.Process && f.Kind is FaultKinds.Kill or FaultKinds.Pause && f.End >= charge.At && f.Start <= Math.Min(callEnd, before)));
    }

    private static (int Count, double LongestMs) Stranded(ChaosJournal journal, long lease, long stoppedAt, long epoch, List<string> details)
    {
        var settle = Ticks(ChaosSettings.Settle);
        var margin = Ticks(ChaosSettings.StrandedMargin);
        var quiet = Ticks(ChaosSettings.StrandedAfter);
        var outages = journal.Faults
            .Where(f => f.Outage)
            .Select(f => (Start: f.Start, End: f.End + settle))
            .OrderBy(s => s.Start)
            .ToList();
        // A backward step of the wall clock keeps every key held on the server longer by the step.
        var clockBack = journal.ClockSteps.Where(c => c.Size < 0).Select(c => (Start: c.From, End: c.At - c.Size)).ToList();
        outages = outages.Concat(clockBack.Select(c => (c.Start, End: c.End + settle))).OrderBy(s => s.Start).ToList();
        var shadows = journal.Faults.Select(f => (Start: f.Start, End: f.End + lease + settle))
            .Concat(clockBack.Select(c => (c.Start, End: c.End + lease + settle)))
            .OrderBy(s => s.Start)
            .ToList();
        var count = 0;
        long longest = 0;
        foreach (var key in journal.Uses.GroupBy(u => u.Key, StringComparer.Ordinal))
        {
            var held = key.Select(u => (Start: u.Granted, End: HeldUntil(u, lease, stoppedAt))).OrderBy(h => h.Start).ToList();
            var coveredUntil = held[0].End;
            foreach (var (start, end) in held.Skip(1).Append((Start: stoppedAt, End: stoppedAt)))
            {
                if (start > coveredUntil)
                {
                    // Past a lease while the backend answered; or past half a lease away from any fault.
                    var idle = LongestUncovered(coveredUntil, start, outages);
                    var calm = LongestUncovered(coveredUntil, start, shadows);
                    longest = Math.Max(longest, idle);
                    if (idle > lease + margin || calm > quiet)
                    {
                        count++;
                        Detail(details, $"stranded: {key.Key} free of any known holder from {Seconds(coveredUntil - epoch)} s to {Seconds(start - epoch)} s into the run ({Seconds(idle)} s while the backend answered, {Seconds(calm)} s away from any fault)");
                    }
                }

                coveredUntil = Math.Max(coveredUntil, end);
            }
        }

        return (count, longest * 1000.0 / Stopwatch.Frequency);
    }

    /// <summary>Until when <paramref name="use"/>'s holder may have held the key: its release when it released cleanly, else a lease past its last sign of life.</summary>
    private static long HeldUntil(ChaosUse use, long lease, long stoppedAt) => use switch
    {
        { Released: true, ReleasedAt: { } at } => at,
        { KilledAt: { } killed } => killed + lease,
        _ => (use.ReleasedAt ?? use.End ?? stoppedAt) + lease,
    };

    private static long LongestUncovered(long from, long to, List<(long Start, long End)> shadows)
    {
        long longest = 0;
        var cursor = from;
        foreach (var (start, end) in shadows)
        {
            if (end <= cursor)
            {
                continue;
            }

            if (start >= to)
            {
                break;
            }

            longest = Math.Max(longest, Math.Min(start, to) - cursor);
            cursor = Math.Max(cursor, end);
            if (cursor >= to)
            {
                return longest;
            }
        }

        return Math.Max(longest, to - cursor);
    }

    private static Dictionary<string, RecoveryFigure> Recovery(ChaosJournal journal)
    {
        // Per key and per resource: uses ordered by when their acquire was sent, with the earliest grant from there on.
        var byKey = journal.Uses.GroupBy(u => u.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(u => u.Granted).ToArray(), StringComparer.Ordinal);
        var byResource = journal.Uses.GroupBy(u => u.Resource, StringComparer.Ordinal).ToDictionary(g => g.Key, g => new NextGrant(g), StringComparer.Ordinal);
        var waits = new Dictionary<string, (List<long> Waits, int Missing)>(StringComparer.Ordinal);
        void Add(string kind, long? wait)
        {
            var (list, missing) = waits.TryGetValue(kind, out var entry) ? entry : ([], 0);
            if (wait is { } w)
            {
                list.Add(w);
            }
            else
            {
                missing++;
            }

            waits[kind] = (list, missing);
        }

        foreach (var fault in journal.Faults)
        {
            // A holder killed or paused: until another process is granted each key it held.
            // Otherwise: until the pool and every lock key grant again, to acquires sent after the
            // fault began (a grant already in flight proves nothing).
            long? worst = 0;
            if (fault.Keys.Count > 0)
            {
                foreach (var key in fault.Keys.Distinct(StringComparer.Ordinal))
                {
                    var next = byKey.GetValueOrDefault(key)?.FirstOrDefault(u => u.Granted > fault.Start && u.Process != fault.Process)?.Granted;
                    worst = next is null || worst is null ? null : Math.Max(worst.Value, next.Value - fault.Start);
                }
            }
            else
            {
                foreach (var target in byResource.Values)
                {
                    var next = target.After(fault.Start);
                    worst = next is null || worst is null ? null : Math.Max(worst.Value, next.Value - fault.Start);
                }
            }

            Add(fault.Kind, worst);
        }

        foreach (var cancel in journal.Cancels.Where(c => byResource.ContainsKey(c.Resource)))
        {
            var next = byResource.GetValueOrDefault(cancel.Resource)?.After(cancel.At);
            Add(FaultKinds.Cancel, next - cancel.At);
        }

        return waits.ToDictionary(
            w => w.Key,
            w =>
            {
                var sorted = w.Value.Waits.Order().ToArray();
                return new RecoveryFigure(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), w.Value.Missing);
            },
            StringComparer.Ordinal);
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;

    private static int LowerBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static long Micros(long ticks) => (long)(ticks * (1e6 / Stopwatch.Frequency));

    private static long FromMicros(long micros) => (long)(micros * (Stopwatch.Frequency / 1e6));

    private static string Seconds(long ticks) => (ticks / (double)Stopwatch.Frequency).ToString("0.000", CultureInfo.InvariantCulture);

    private static void Detail(List<string> details, string text)
    {
        if (details.Count < MaxDetails * 5)
        {
            details.Add(text);
        }
    }

    /// <summary>The earliest grant among uses whose acquire was sent at or after a moment.</summary>
    private sealed class NextGrant
    {
        private readonly long[] _sent;
        private readonly long[] _earliestGrantFrom;

        public NextGrant(IEnumerable<ChaosUse> uses)
        {
            var ordered = uses.OrderBy(u => u.Sent).ToArray();
            _sent = [.. ordered.Select(u => u.Sent)];
            _earliestGrantFrom = new long[ordered.Length];
            for (var i = ordered.Length - 1; i >= 0; i--)
            {
                _earliestGrantFrom[i] = i == ordered.Length - 1 ? ordered[i].Granted : Math.Min(ordered[i].Granted, _earliestGrantFrom[i + 1]);
            }
        }

        public long? After(long moment)
        {
            var i = LowerBound(_sent, moment);
            return i < _sent.Length ? _earliestGrantFrom[i] : null;
        }
    }
}

/// <summary>How a payment call ended, as the workers report it.</summary>
internal static class ExecutionOutcomes
{
    public const string Executed = "executed";
    public const string Replayed = "replayed";
    public const string ClaimLost = "claim-lost";
    public const string Unavailable = "unavailable";
    public const string InProgress = "in-progress";
    public const string Cancelled = "cancelled";
}
