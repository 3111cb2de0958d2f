using System.Text.Json.Serialization;
using Leasing;

// A relayer: workers on every replica lease signing accounts from one pool (least recently used
// first), each account carrying its next sequence number as fenced state, so a worker paused past
// its lease can never store a stale number over the next holder's.
var builder = Host.CreateApplicationBuilder(args);

// One SQLite file here; in production AddPostgresLeasing(...) or AddRedisLeasing(...), shared by every replica.
builder.Services.AddSqliteLeasing(Path.Combine(Path.GetTempPath(), "leasing-relayer-worker.db"));
builder.Services.AddChannelPool("relayers", o =>
{
    o.Channels = ["acct-1", "acct-2", "acct-3"];
    o.LeaseDuration = TimeSpan.FromSeconds(30);
    o.Cooldown = TimeSpan.FromSeconds(10); // how long an uncertain submission keeps its account out
});
builder.Services.AddHostedService<Relayer>();

await builder.Build().RunAsync();

/// <summary>Four workers submitting transactions, each under a leased account.</summary>
internal sealed partial class Relayer([FromKeyedServices("relayers")] ChannelPool pool, ILogger<Relayer> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(1, 4).Select(worker => WorkAsync(worker, stoppingToken)));

    private async Task WorkAsync(int worker, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await using var account = await pool.AcquireAsync(stoppingToken);
            var sequence = await account.GetStateAsync(RelayerJson.Default.Int64, stoppingToken);
            try
            {
                // Stops when the lease is lost: never submit under an account we no longer hold.
                await SubmitAsync(account.ChannelId, sequence, account.LeaseLost);
            }
            catch (TimeoutException)
            {
                // Did it land? Unknown: keep the account out until the network has settled.
                await account.ReleaseWithCooldownAsync(cancellationToken: CancellationToken.None);
                continue;
            }

            if (!await account.TrySetStateAsync(sequence + 1, RelayerJson.Default.Int64, CancellationToken.None))
            {
                LogLost(logger, worker, account.ChannelId, sequence + 1);
                continue;
            }

            LogSent(logger, worker, sequence, account.ChannelId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {Worker} lost {Account} before storing sequence {Sequence}")]
    private static partial void LogLost(ILogger logger, int worker, string account, long sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Worker} sent sequence {Sequence} from {Account}")]
    private static partial void LogSent(ILogger logger, int worker, long sequence, string account);

    private static async Task SubmitAsync(string account, long sequence, CancellationToken leaseLost)
    {
        await Task.Delay(Random.Shared.Next(50, 250), leaseLost);
        if (Random.Shared.Next(20) == 0)
        {
            throw new TimeoutException($"No answer for {account} #{sequence}.");
        }
    }
}

[JsonSerializable(typeof(long))]
internal sealed partial class RelayerJson : JsonSerializerContext;
