// A worker process for the cross-process tests of the Redis backend (tests/Leasing.Redis.Tests):
//
//   race <redis> <pool> <channels> <seconds> <journal> <lease-ms>
//       cycles acquire/release on a ChannelPool for <seconds>; after each release that the store
//       confirmed, appends "channel fencing start-ticks end-ticks" (UTC) to <journal>.
//   hold <redis> <pool> <channels> <lease-ms>
//       acquires one channel (auto-renewed), prints "HELD channel fencing", and waits to be killed.
using System.Globalization;
using Leasing;
using Leasing.Redis;
using StackExchange.Redis;

var mode = args[0];
var options = ConfigurationOptions.Parse(args[1]);
options.AbortOnConnectFail = false;
await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
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
