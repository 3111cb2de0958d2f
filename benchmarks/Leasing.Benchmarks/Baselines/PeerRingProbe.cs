using Medallion.Threading;
using Medallion.Threading.Postgres;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// The peer a .NET user would pick instead (madelson's DistributedLock), built the way its users
/// build a pool of named resources: one lock per channel; a pair probes the channels around the
/// ring from a random start with <c>TryAcquireAsync(TimeSpan.Zero)</c>, pauses 1 ms after a full
/// failed round and starts again from a new random start; release disposes the handle.
/// </summary>
internal sealed class PeerRingProbe
{
    private readonly IDistributedLock[] _locks;

    private PeerRingProbe(IDistributedLock[] locks) => _locks = locks;

    /// <summary>One <c>RedisDistributedLock</c> (default options) per channel, on keys <c>{prefix}:ch-{i}</c>.</summary>
    public static PeerRingProbe Redis(IDatabase database, string prefix, int channels) =>
        new([.. Enumerable.Range(0, channels).Select(i => new RedisDistributedLock($"{prefix}:ch-{i}", database))]);

    /// <summary>
    /// One <c>PostgresDistributedLock</c> (an advisory lock, default options: connection string,
    /// connection multiplexing) per channel; the keys are hashes of <c>{prefix}:ch-{i}</c>.
    /// </summary>
    public static PeerRingProbe Postgres(string connectionString, string prefix, int channels) =>
        new([.. Enumerable.Range(0, channels).Select(i => new PostgresDistributedLock(new PostgresAdvisoryLockKey($"{prefix}:ch-{i}", allowHashing: true), connectionString))]);

    /// <summary>Takes the first free channel found around the ring and releases it at once (a 0-µs hold).</summary>
    public async ValueTask PairAsync()
    {
        while (true)
        {
            var start = Random.Shared.Next(_locks.Length);
            for (var i = 0; i < _locks.Length; i++)
            {
                var handle = await _locks[(start + i) % _locks.Length].TryAcquireAsync(TimeSpan.Zero).ConfigureAwait(false);
                if (handle is not null)
                {
                    await handle.DisposeAsync().ConfigureAwait(false);
                    return;
                }
            }

            await Task.Delay(1).ConfigureAwait(false);
        }
    }
}
