using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>Separate OS processes (tests/Leasing.Redis.TestHost) sharing one pool on the real server.</summary>
public sealed class CrossProcessTests
{
    [Fact]
    public async Task FourProcesses_CyclingOnOnePool_NeverOverlapOnAChannelAndFencingGrowsPerChannel()
    {
        var redis = await RedisTestServer.GetConnectionStringAsync();
        var pool = Unique.Name("pool");
        var folder = Directory.CreateTempSubdirectory("leasing-race-");
        try
        {
            var hosts = Enumerable.Range(0, 4)
                .Select(i => TestHostProcess.Start("race", redis, pool, "3", "3", Path.Combine(folder.FullName, $"journal-{i}.txt"), "10000"))
                .ToList();
            foreach (var host in hosts)
            {
                using (host)
                {
                    await host.WaitForSuccessAsync(TimeSpan.FromSeconds(60));
                }
            }

            var holds = Directory.GetFiles(folder.FullName)
                .SelectMany(File.ReadAllLines)
                .Select(line => line.Split(' '))
                .Select(p => (Channel: p[0], Fencing: long.Parse(p[1], CultureInfo.InvariantCulture), Start: long.Parse(p[2], CultureInfo.InvariantCulture), End: long.Parse(p[3], CultureInfo.InvariantCulture)))
                .ToList();

            holds.Should().HaveCountGreaterThan(100, "four processes cycled for three seconds");
            Directory.GetFiles(folder.FullName).Should().AllSatisfy(f => File.ReadAllLines(f).Should().NotBeEmpty("every process got channels"));
            foreach (var channel in holds.GroupBy(h => h.Channel))
            {
                var byStart = channel.OrderBy(h => h.Start).ToList();
                for (var i = 1; i < byStart.Count; i++)
                {
                    byStart[i].Start.Should().BeGreaterThanOrEqualTo(byStart[i - 1].End, $"holds of {channel.Key} must not overlap (#{i - 1} ended, then #{i} started)");
                    byStart[i].Fencing.Should().BeGreaterThan(byStart[i - 1].Fencing, $"fencing tokens of {channel.Key} grow with every hold");
                }
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task HolderKilledWithSignal9_ChannelBackAfterLeaseDuration()
    {
        var redis = await RedisTestServer.GetConnectionStringAsync();
        var pool = Unique.Name("pool");
        var leaseDuration = TimeSpan.FromSeconds(2);
        using var holder = TestHostProcess.Start("hold", redis, pool, "1", "2000");
        var held = (await holder.ReadLineAsync(TimeSpan.FromSeconds(30))).Split(' ');
        held[0].Should().Be("HELD");
        var fencing = long.Parse(held[2], CultureInfo.InvariantCulture);

        var backend = await RedisLeaseBackend.CreateAsync();
        var store = backend.CreateStore();
        await Task.Delay(leaseDuration); // the holder renews: still held after a full lease duration
        (await store.TryAcquirePoolMemberAsync(pool, "ch-0", leaseDuration)).Should().BeNull("the live holder renews its lease");

        holder.Kill();
        var killed = Stopwatch.StartNew();
        (await store.TryAcquirePoolMemberAsync(pool, "ch-0", leaseDuration)).Should().BeNull("the lease of the killed holder runs on");

        Lease? recovered = null;
        while (recovered is null && killed.Elapsed < leaseDuration * 3)
        {
            await Task.Delay(50);
            recovered = await store.TryAcquirePoolMemberAsync(pool, "ch-0", leaseDuration);
        }

        recovered.Should().NotBeNull("the killed holder's lease expires");
        killed.Elapsed.Should().BeLessThan(leaseDuration + TimeSpan.FromSeconds(1), "the channel is back once the last renewed lease runs out");
        recovered!.FencingToken.Should().BeGreaterThan(fencing);
    }

    [Fact]
    public async Task EightProcesses_OneKeyThroughIdempotentExecutor_ExactlyOneExecutionAndEveryoneGetsItsResult()
    {
        var redis = await RedisTestServer.GetConnectionStringAsync();
        var key = Unique.Name("idem");
        var journal = Path.Combine(Path.GetTempPath(), $"{key}.journal");
        var startAt = DateTime.UtcNow.AddSeconds(4).Ticks.ToString(CultureInfo.InvariantCulture);
        try
        {
            var hosts = Enumerable.Range(0, 8).Select(_ => TestHostProcess.Start("idem", redis, key, startAt, journal)).ToList();
            var results = new List<string[]>();
            foreach (var host in hosts)
            {
                using (host)
                {
                    results.Add((await host.ReadLineAsync(TimeSpan.FromSeconds(60))).Split(' '));
                }
            }

            Journal.ReadAll(journal).Should().ContainSingle("the action ran in exactly one of eight processes");
            results.Should().AllSatisfy(r => r[0].Should().Be("RESULT"));
            results.Select(r => r[1]).Distinct().Should().ContainSingle("every process got the one execution's result");
            results.Count(r => r[2] == "False").Should().Be(1, "one process ran the action, seven replayed it");
        }
        finally
        {
            Journal.DeleteAll(journal);
        }
    }
}
