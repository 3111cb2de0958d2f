using Leasing;
using Leasing.InMemory;

// Eight workers share three channels: each acquires the least-recently-used free one, works,
// and releases it; nobody ever holds a channel another worker holds.
var store = new InMemoryLeaseStore();
await using var pool = new ChannelPool(store, new ChannelPoolOptions
{
    Name = "relayers",
    Channels = ["acct-1", "acct-2", "acct-3"],
    LeaseDuration = TimeSpan.FromSeconds(30),
    AcquireTimeout = TimeSpan.FromSeconds(10),
});

var uses = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
{
    for (var i = 0; i < 25; i++)
    {
        await using var channel = await pool.AcquireAsync();
        uses.AddOrUpdate(channel.ChannelId, 1, (_, n) => n + 1);
        await Task.Delay(1, channel.LeaseLost); // the work: pass channel.FencingToken downstream
    }
}));

foreach (var (channel, count) in uses.OrderBy(u => u.Key))
{
    Console.WriteLine($"{channel}: {count} leases");
}

Console.WriteLine($"total: {uses.Values.Sum()} leases, least-recently-used rotation keeps the counts even");
