// A worker process for the cross-process tests of the Redis backend (tests/Leasing.Redis.Tests):
//
//   race <redis> <pool> <channels> <seconds> <journal> <lease-ms>
//       cycles acquire/release on a ChannelPool for <seconds>; after each release that the store
//       confirmed, appends "channel fencing start-ticks end-ticks" (UTC) to <journal>.
//   hold <redis> <pool> <channels> <lease-ms>
//       acquires one channel (auto-renewed), prints "HELD channel fencing", and waits to be killed.
//   bench <redis> [workers=64] [channels=2000] [seconds-per-round=1] [rounds=5]
//       ChannelPool acquire+release pairs/s against pairs of two trivial EVALSHA calls, same
//       workers and multiplexer, in interleaved rounds; prints each round and the medians.
//   idem <redis> <key> <start-at-utc-ticks> <journal>   (the action appends its pid to <journal>.<pid>)
//       waits until <start-at>, then runs one IdempotentExecutor call on <key> whose action appends
//       a line to <journal> and takes 300 ms; prints "RESULT value replayed".
using System.Globalization;
using Leasing;
using Leasing.Redis;
using StackExchange.Redis;

var mode = args[0];
var options = ConfigurationOptions.Parse(args[1]);
options.AbortOnConnectFail = false;
await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
if (mode == "bench")
{
    return await Bench.RunAsync(redis, args);
}

if (mode == "idem")
{
    await using var executor = new IdempotentExecutor(
        new RedisIdempotencyStore(redis, new RedisLeasingOptions { KeyPrefix = "leasing-test" }),
        new IdempotencyOptions { WaitForInProgress = TimeSpan.FromSeconds(30), LeaseDuration = TimeSpan.FromSeconds(10) });
    var startAt = new DateTime(long.Parse(args[3], CultureInfo.InvariantCulture), DateTimeKind.Utc);
    while (DateTime.UtcNow < startAt)
    {
        await Task.Delay(1);
    }

    var outcome = await executor.ExecuteAsync(args[2], args[2], async (input, ct) =>
    {
        // One file per process: appends from several processes to one file can overwrite each other.
        await File.AppendAllTextAsync($"{args[4]}.{Environment.ProcessId}", $"{Environment.ProcessId}{Environment.NewLine}", ct);
        await Task.Delay(300, ct);
        return $"{input}-run-by-{Environment.ProcessId}";
    });
    Console.WriteLine($"RESULT {outcome.Value} {outcome.Replayed}");
    return 0;
}

var store = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = "leasing-test" });
var channels = Enumerable.Range(0, int.Parse(args[3], CultureInfo.InvariantCulture)).Select(i => $"ch-{i}").ToList();
var leaseMs = int.Parse(args[mode == "race" ? 6 : 4], CultureInfo.InvariantCulture);
await using var pool = new ChannelPool(store, new ChannelPoolOptions
{
    Name = args[2],
    Channels = channels,
    LeaseDuration = TimeSpan.FromMilliseconds(leaseMs),
    AcquireTimeout = TimeSpan.FromSeconds(30),
    RetryMinDelay = TimeSpan.FromMilliseconds(5),
    RetryMaxDelay = TimeSpan.FromMilliseconds(50),
});

if (mode == "hold")
{
    var held = await pool.AcquireAsync();
    Console.WriteLine($"HELD {held.ChannelId} {held.FencingToken}");
    await Task.Delay(Timeout.Infinite);
    return 0;
}

var until = DateTime.UtcNow.AddSeconds(double.Parse(args[4], CultureInfo.InvariantCulture));
await using var journal = new StreamWriter(args[5], append: true) { AutoFlush = false };
var cycles = 0;
while (DateTime.UtcNow < until)
{
    var lease = await pool.AcquireAsync();
    var start = DateTime.UtcNow.Ticks;
    await Task.Yield(); // the "work"
    var end = DateTime.UtcNow.Ticks;
    if (await lease.ReleaseAsync())
    {
        await journal.WriteLineAsync(FormattableString.Invariant($"{lease.ChannelId} {lease.FencingToken} {start} {end}"));
        cycles++;
    }
}

await journal.FlushAsync();
Console.WriteLine($"DONE {cycles}");
return 0;
