using System.Collections.Concurrent;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Duplicates: in one process, across instances, and callers that leave.
public abstract partial class IdempotentExecutorConformanceTests
{
    [Fact]
    public async Task ExecuteAsync_50ParallelDuplicates_RunOnceAndReplay49_OneClaimRoundTrip()
    {
        var key = Unique.Name();
        var (executor, store) = CreateExecutor();
        var executions = 0;
        var joined = 0;

        var results = await RaceAsync(50, async i =>
        {
            var call = executor.ExecuteAsync(key, new Charge("acct", 12.5m), async (charge, ct) =>
            {
                Interlocked.Increment(ref executions);

                // Hold the execution until every duplicate has joined it.
                await Eventually.TrueAsync(() => Volatile.Read(ref joined) == 50, "all 50 duplicates joined");
                return new Receipt(Guid.NewGuid().ToString("N"), charge.Amount, ["a", "b"]);
            });
            Interlocked.Increment(ref joined);
            return await call;
        });

        executions.Should().Be(1);
        results.Count(r => !r.Replayed).Should().Be(1);
        results.Count(r => r.Replayed).Should().Be(49);
        results.Select(r => r.Value).Distinct().Should().ContainSingle("every duplicate sees the one execution's result");
        store.Claims.Should().Be(1, "in-process duplicates share one claim round trip");
        store.Completes.Should().Be(1);
    }

    [Fact]
    public async Task ExecuteAsync_TwoInstancesOverOneStore_RunOnce()
    {
        var key = Unique.Name();
        var (first, _) = CreateExecutor();
        var (second, _) = CreateExecutor();
        var executions = 0;
        var issued = 0;

        var results = await RaceAsync(20, async i =>
        {
            var executor = i % 2 == 0 ? first : second;
            var call = executor.ExecuteAsync(key, async ct =>
            {
                Interlocked.Increment(ref executions);
                await Eventually.TrueAsync(() => Volatile.Read(ref issued) == 20, "all 20 calls issued");
                return new Receipt("r-" + Guid.NewGuid().ToString("N"), 3m, ["x"]);
            }, fingerprint: "same");
            Interlocked.Increment(ref issued);
            return await call;
        });

        executions.Should().Be(1, "two instances over one store run the action once");
        results.Count(r => !r.Replayed).Should().Be(1);
        results.Select(r => r.Value).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task ExecuteAsync_SequentialDuplicate_ReplaysTheStoredResult()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor();
        var (other, otherStore) = CreateExecutor();
        var executions = 0;

        var first = await executor.ExecuteAsync(key, new Charge("a", 1m), (charge, ct) =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("r1", charge.Amount, ["l"]));
        });
        var second = await other.ExecuteAsync(key, new Charge("a", 1m), (charge, ct) =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(new Receipt("r2", charge.Amount, ["l"]));
        });

        executions.Should().Be(1);
        first.Replayed.Should().BeFalse();
        second.Replayed.Should().BeTrue();
        second.Value.Should().Be(first.Value);
        otherStore.Claims.Should().Be(1, "a replay costs one claim round trip");
    }

    [Fact]
    public async Task ExecuteAsync_MostCallersCancel_EachGetsItsOwnCancellationAndTheRestGetTheResult()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actionTokenCancelled = false;
        var executions = 0;
        var sources = Enumerable.Range(0, 10).Select(_ => new CancellationTokenSource()).ToArray();

        var calls = sources.Select(source => executor.ExecuteAsync(key, async ct =>
        {
            Interlocked.Increment(ref executions);
            started.TrySetResult();
            await release.Task;
            actionTokenCancelled = ct.IsCancellationRequested;
            return 42;
        }, cancellationToken: source.Token)).ToArray();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 7; i++)
        {
            await sources[i].CancelAsync();
        }

        for (var i = 0; i < 7; i++)
        {
            var thrown = await FluentActions.Awaiting(() => calls[i]).Should().ThrowAsync<OperationCanceledException>();
            thrown.Which.CancellationToken.Should().Be(sources[i].Token, "each caller gets its own cancellation");
        }

        calls.Skip(7).Should().OnlyContain(c => !c.IsCompleted, "the others still wait for the shared execution");
        release.SetResult();
        var results = await Task.WhenAll(calls.Skip(7));

        results.Should().OnlyContain(r => r.Value == 42);
        executions.Should().Be(1);
        actionTokenCancelled.Should().BeFalse("callers leaving never cancels the action");
        foreach (var source in sources)
        {
            source.Dispose();
        }
    }

    [Fact]
    public async Task ExecuteAsync_AllCallersCancel_TheStartedActionRunsToItsEndAndItsOutcomeIsStored()
    {
        var key = Unique.Name();
        var (executor, _) = CreateExecutor();
        var (other, _) = CreateExecutor();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var caller = new CancellationTokenSource();

        var call = executor.ExecuteAsync(key, async ct =>
        {
            started.TrySetResult();
            await release.Task;
            finished.SetResult(ct.IsCancellationRequested);
            return "done";
        }, cancellationToken: caller.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await caller.CancelAsync();
        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();

        release.SetResult();
        (await finished.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeFalse("the action's token is not the caller's");

        // Another instance replays it (waiting for the completion if it is still being stored).
        var replay = await other.ExecuteAsync(key, ct => Task.FromResult("again"));
        replay.Replayed.Should().BeTrue();
        replay.Value.Should().Be("done");
        (await Backend.CreateStore().GetAsync(key))!.Status.Should().Be(IdempotencyStatus.Succeeded);
    }

    [Fact]
    public async Task ExecuteAsync_DifferentKeys_RunIndependently()
    {
        var (executor, _) = CreateExecutor();
        var ran = new ConcurrentBag<string>();
        var keys = Enumerable.Range(0, 8).Select(i => Unique.Name($"k{i}-")).ToArray();

        var results = await Task.WhenAll(keys.Select(k => executor.ExecuteAsync(k, ct =>
        {
            ran.Add(k);
            return Task.FromResult(k);
        })));

        ran.Should().BeEquivalentTo(keys);
        results.Select(r => r.Value).Should().BeEquivalentTo(keys);
        results.Should().OnlyContain(r => !r.Replayed);
    }
}
