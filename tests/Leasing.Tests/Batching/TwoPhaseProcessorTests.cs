using System.Collections.Concurrent;
using FluentAssertions;
using Leasing.Batching;
using Leasing.InMemory;
using Leasing.Testing;
using Xunit;

namespace Leasing.Tests.Batching;

public sealed class TwoPhaseProcessorTests
{
    private const string LockKey = "memory-upgrade";

    private readonly InMemoryLeaseStore store = new();
    private readonly FlakyLeaseStore counting;
    private readonly DistributedLock replica;
    private readonly ConcurrentDictionary<int, Entry> db = new();

    public TwoPhaseProcessorTests()
    {
        counting = new FlakyLeaseStore(store);
        replica = new DistributedLock(counting);
        for (var i = 0; i < 25; i++)
        {
            db[i] = new Entry($"text {i}", Summary: null, Tags: []);
        }
    }

    [Fact]
    public async Task RunAsync_25ItemsInBatchesOf10_TakesTheLockThreeTimes()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), PrepareSummaryAsync, CommitSummariesAsync);

        report.Batches.Should().Be(3);
        report.LocksTaken.Should().Be(3, "one lock per batch, not per item");
        counting.Acquires.Should().Be(3, "three acquire round trips for 25 items");
        report.Committed.Should().Be(25);
        report.Failures.Should().BeEmpty();
        db.Values.Should().OnlyContain(e => e.Summary != null);
    }

    [Fact]
    public async Task RunAsync_PrepareRunsOutsideTheLock()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });
        var heldDuringPrepare = 0;
        var heldDuringCommit = 0;

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), async (item, ct) =>
        {
            if ((await store.InspectAsync([LockKey], ct)).Single().Status != LeaseStatus.Free)
            {
                Interlocked.Increment(ref heldDuringPrepare);
            }

            var patch = await PrepareSummaryAsync(item, ct);
            if ((await store.InspectAsync([LockKey], ct)).Single().Status != LeaseStatus.Free)
            {
                Interlocked.Increment(ref heldDuringPrepare);
            }

            return patch;
        }, async (batch, handle, ct) =>
        {
            if ((await store.InspectAsync([LockKey], ct)).Single().Status == LeaseStatus.Held)
            {
                heldDuringCommit++;
            }

            await CommitSummariesAsync(batch, handle, ct);
        });

        heldDuringPrepare.Should().Be(0, "phase 1 never holds the lock");
        heldDuringCommit.Should().Be(3, "phase 2 always does");
        report.Committed.Should().Be(25);
    }

    [Fact]
    public async Task RunAsync_OtherWritersGetTheLockBetweenBatches()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });
        var otherReplica = new DistributedLock(store);
        var otherWriterRuns = new ConcurrentBag<bool>();

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), async (item, ct) =>
        {
            if (item % 10 == 0)
            {
                // Another writer (another replica) takes the lock while this batch prepares.
                var run = await otherReplica.TryRunExclusiveAsync(LockKey, (h, c) => Task.FromResult(true), ct);
                otherWriterRuns.Add(run.Acquired);
            }

            return await PrepareSummaryAsync(item, ct);
        }, CommitSummariesAsync);

        otherWriterRuns.Should().HaveCount(3).And.OnlyContain(acquired => acquired, "the lock is free between batches");
        report.Committed.Should().Be(25);
    }

    [Fact]
    public async Task RunAsync_WriteByAnotherWriterDuringPhase1_SurvivesPhase2()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10, MaxPrepareConcurrency = 2 });
        var otherReplica = new DistributedLock(store);

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), async (item, ct) =>
        {
            var patch = await PrepareSummaryAsync(item, ct);
            if (item == 13)
            {
                // A live writer tags item 13 under the lock while its summary is being prepared.
                var write = await otherReplica.TryRunExclusiveAsync(LockKey, (h, c) =>
                {
                    db.AddOrUpdate(13, _ => throw new InvalidOperationException(), (_, e) => e with { Tags = [.. e.Tags, "pinned"] });
                    return Task.FromResult(0);
                }, ct);
                write.Acquired.Should().BeTrue();
            }

            return patch;
        }, CommitSummariesAsync);

        report.Committed.Should().Be(25);
        db[13].Tags.Should().Equal(["pinned"], "the commit re-read the entry and applied only its patch");
        db[13].Summary.Should().Be("summary of text 13");
    }

    [Fact]
    public async Task RunAsync_PerItemFailures_AreReportedAndTheRestIsCommitted()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), async (item, ct) =>
        {
            if (item == 3)
            {
                throw new HttpRequestException("model timed out");
            }

            return await PrepareSummaryAsync(item, ct);
        }, async (batch, handle, ct) =>
        {
            foreach (var (item, patch) in batch)
            {
                if (item == 17)
                {
                    batch.Fail(item, new InvalidOperationException("entry deleted meanwhile"));
                    continue;
                }

                db.AddOrUpdate(item, _ => throw new InvalidOperationException(), (_, e) => e with { Summary = patch });
            }

            await Task.Yield();
        });

        report.Batches.Should().Be(3);
        report.LocksTaken.Should().Be(3);
        report.Committed.Should().Be(23);
        report.Failures.Should().HaveCount(2);
        report.Failures.Should().ContainSingle(f => f.Item == 3 && f.Stage == TwoPhaseStage.Prepare && f.Error is HttpRequestException);
        report.Failures.Should().ContainSingle(f => f.Item == 17 && f.Stage == TwoPhaseStage.Commit);
        db[3].Summary.Should().BeNull();
        db[17].Summary.Should().BeNull();
        db[24].Summary.Should().NotBeNull("later batches ran");
    }

    [Fact]
    public async Task RunAsync_CommitThrows_FailsThatBatchOnlyAndReleasesTheLock()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });

        var report = await processor.RunAsync(LockKey, Enumerable.Range(0, 25), PrepareSummaryAsync, async (batch, handle, ct) =>
        {
            if (batch.Index == 1)
            {
                throw new IOException("store down");
            }

            await CommitSummariesAsync(batch, handle, ct);
        });

        report.Failures.Should().HaveCount(10).And.OnlyContain(f => f.Stage == TwoPhaseStage.Commit && f.Error is IOException);
        report.Committed.Should().Be(15);
        (await store.InspectAsync([LockKey])).Single().Status.Should().Be(LeaseStatus.Free);
    }

    [Fact]
    public async Task RunAsync_CommitGetsTheLocksFencingToken_GrowingPerBatch()
    {
        var processor = new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 10 });
        var tokens = new List<long>();

        await processor.RunAsync(LockKey, Enumerable.Range(0, 25), PrepareSummaryAsync, (batch, handle, ct) =>
        {
            batch.FencingToken.Should().Be(handle.FencingToken);
            tokens.Add(batch.FencingToken);
            return Task.CompletedTask;
        });

        tokens.Should().HaveCount(3).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task RunAsync_BadInput_ThrowsBeforeAnyLock()
    {
        var processor = new TwoPhaseProcessor(replica);

        await FluentActions.Awaiting(() => processor.RunAsync<int, string>(" ", [1], PrepareSummaryAsync, CommitSummariesAsync)).Should().ThrowAsync<ArgumentException>().WithParameterName("lockKey");
        await FluentActions.Awaiting(() => processor.RunAsync<int, string>(LockKey, null!, PrepareSummaryAsync, CommitSummariesAsync)).Should().ThrowAsync<ArgumentNullException>().WithParameterName("items");
        FluentActions.Invoking(() => new TwoPhaseProcessor(replica, new TwoPhaseProcessorOptions { BatchSize = 0 }))
            .Should().Throw<ArgumentException>().WithMessage("*TwoPhaseProcessorOptions.BatchSize*");
        counting.Acquires.Should().Be(0);
    }

    private async Task<string> PrepareSummaryAsync(int item, CancellationToken cancellationToken)
    {
        // The slow part (an LLM call in the design's story), reading a snapshot outside the lock.
        var snapshot = db[item];
        await Task.Yield();
        return $"summary of {snapshot.Text}";
    }

    // Re-reads each entry's fresh state under the lock and applies only the patch.
    private Task CommitSummariesAsync(TwoPhaseBatch<int, string> batch, LockHandle handle, CancellationToken cancellationToken)
    {
        foreach (var (item, patch) in batch)
        {
            db.AddOrUpdate(item, _ => throw new InvalidOperationException(), (_, fresh) => fresh with { Summary = patch });
        }

        return Task.CompletedTask;
    }

    private sealed record Entry(string Text, string? Summary, string[] Tags);
}
