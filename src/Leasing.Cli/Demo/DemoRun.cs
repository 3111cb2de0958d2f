using System.Diagnostics;
using System.Globalization;
using Leasing.Cli.Backends;

namespace Leasing.Cli.Demo;

/// <summary>
/// The demo: <see cref="DemoSettings.Workers"/> workers lease channels from one <see cref="ChannelPool"/>
/// and do simulated submissions; some "time out" and release with a cooldown; one extra worker is
/// killed mid-lease (its process "dies": no release, no renewal) and its channel must come back only
/// after its lease; a payment is sent by several workers at once and must run once. Every use of a
/// channel goes into a <see cref="UsageJournal"/>, from which the violations are counted.
/// Each channel carries fenced state, its next sequence number (as a relayer's signing account does):
/// every holder reads it, "submits" with it and stores the next one; a worker paused past its lease
/// (its clock stopped, so it believes it still holds the channel) tries to store a stale number, which
/// must be refused. The accepted numbers of each channel must run 0, 1, 2, ... without gap or repeat.
/// </summary>
internal sealed class DemoRun(Backend backend, DemoSettings settings)
{
    private readonly UsageJournal _journal = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Channel, long Sequence)> _sequences = new();
    private int _refused;
    private int _pausedRefused;
    private int _pausedAccepted;
    private int _cooldowns;
    private int _lost;

    /// <summary>Channel uses so far (for live progress).</summary>
    public int Pairs => _journal.Count;

    /// <summary>Cooldowns so far (for live progress).</summary>
    public int Cooldowns => Volatile.Read(ref _cooldowns);

    /// <summary>What the killed worker is doing (for live progress).</summary>
    public string KillStage { get; private set; } = "waiting";

    public async Task<DemoReport> RunAsync(CancellationToken cancellationToken)
    {
        var name = $"demo-{Guid.NewGuid():N}"[..13];
        var channels = Enumerable.Range(1, settings.Channels).Select(i => $"ch-{i:D2}").ToArray();
        await using var pool = new ChannelPool(backend.Leases, PoolOptions(name, channels, autoRenew: true));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // The worker to be killed goes first, so it surely finds a free channel; the others start at once.
        await using var doomed = new ChannelPool(backend.Leases, PoolOptions(name, channels, autoRenew: false));
        await doomed.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var kill = KillOneWorkerAsync(doomed, stop.Token);
        var waits = new List<double>[settings.Workers];
        var workers = new Task[settings.Workers];
        for (var i = 0; i < settings.Workers; i++)
        {
            waits[i] = [];
            var worker = i + 1;
            var samples = waits[i];
            workers[i] = Task.Run(() => WorkAsync(pool, worker, samples, stop.Token), CancellationToken.None);
        }

        var payment = Task.Run(() => SendPaymentAsync(name, stop.Token), CancellationToken.None);
        var paused = Task.Run(() => PauseWorkersAsync(name, channels, stop.Token), CancellationToken.None);

        try
        {
            await Task.Delay(settings.Duration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(workers).ConfigureAwait(false);
            await paused.ConfigureAwait(false);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var killed = await kill.ConfigureAwait(false);
        var paid = await payment.ConfigureAwait(false);
        var uses = _journal.Snapshot();
        var violations = _journal.FindViolations()
            .Select(v => string.Create(
                CultureInfo.InvariantCulture,
                $"{v.Later.Channel}: {v.Rule} (fencing {v.Earlier.FencingToken} by worker {v.Earlier.Worker} at {Since(started, v.Earlier.Start)}-{Since(started, v.Earlier.End)} s, " +
                $"then {v.Later.FencingToken} by worker {v.Later.Worker} at {Since(started, v.Later.Start)}-{Since(started, v.Later.End)} s)"))
            .ToList();
        if (paid is { Executions: > 1 })
        {
            violations.Add($"payment ran {paid.Executions} times");
        }

        violations.AddRange(await CheckSequencesAsync(name, channels).ConfigureAwait(false));
        if (Volatile.Read(ref _pausedAccepted) > 0)
        {
            violations.Add($"{_pausedAccepted} stale state writes of paused workers were accepted");
        }

        var allWaits = waits.SelectMany(w => w).Order().ToArray();
        var zombie = killed is null ? null : uses.FirstOrDefault(u => u.Worker == 0);
        var next = zombie is null ? null : uses.Where(u => u.Channel == zombie.Channel && u.Start > zombie.Start && u.Worker != 0).MinBy(u => u.Start);
        return new DemoReport(
            settings,
            backend.Choice.ToString(),
            elapsed,
            uses.Count(u => u.Worker != 0),
            Percentile(allWaits, 0.50),
            Percentile(allWaits, 0.99),
            Volatile.Read(ref _cooldowns),
            Volatile.Read(ref _lost),
            _journal.StaleUses,
            [.. channels.Select(c => (c, uses.Count(u => u.Channel == c && u.Worker != 0)))],
            killed is null || zombie is null ? null : new KillReport(
                zombie.Channel,
                zombie.FencingToken,
                next is null ? null : Stopwatch.GetElapsedTime(zombie.Start, next.Start),
                next?.FencingToken ?? 0),
            paid,
            new SequenceReport(_sequences.Count, Volatile.Read(ref _refused), Volatile.Read(ref _pausedRefused)),
            violations);
    }

    private ChannelPoolOptions PoolOptions(string name, string[] channels, bool autoRenew) => new()
    {
        Name = name,
        Channels = channels,
        LeaseDuration = settings.LeaseDuration,
        AcquireTimeout = TimeSpan.FromSeconds(30),
        Cooldown = settings.Cooldown,
        AutoRenew = autoRenew,
        RetryMinDelay = TimeSpan.FromMilliseconds(5),
        RetryMaxDelay = TimeSpan.FromMilliseconds(100),
    };

    private async Task WorkAsync(ChannelPool pool, int worker, List<double> waits, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var asked = Stopwatch.GetTimestamp();
            ChannelLease lease;
            try
            {
                lease = await pool.AcquireAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            await using (lease.ConfigureAwait(false))
            {
                waits.Add(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
                var start = Stopwatch.GetTimestamp();
                var sequence = await lease.GetStateAsync(DemoJson.Default.Int64, CancellationToken.None).ConfigureAwait(false);
                var timedOut = Random.Shared.NextDouble() < settings.TimeoutRate;
                var work = TimeSpan.FromMilliseconds(Random.Shared.Next(2, 12) * (timedOut ? 3 : 1));
                try
                {
                    // A submission: stops at once if the lease is lost (never works on after that).
                    await Task.Delay(work, lease.LeaseLost).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (lease.LeaseLost.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _lost);
                }

                // The submission used `sequence`: store the next one, accepted only while the lease is live.
                if (await lease.TrySetStateAsync(sequence + 1, DemoJson.Default.Int64, CancellationToken.None).ConfigureAwait(false))
                {
                    _sequences.Enqueue((lease.ChannelId, sequence));
                }
                else
                {
                    Interlocked.Increment(ref _refused);
                }

                var end = Stopwatch.GetTimestamp();
                var released = timedOut
                    ? await lease.ReleaseWithCooldownAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false)
                    : await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
                if (timedOut && released)
                {
                    Interlocked.Increment(ref _cooldowns);
                }

                _journal.Add(new ChannelUse(lease.ChannelId, lease.FencingToken, start, end, worker, released));
            }
        }
    }

    /// <summary>
    /// A worker in its own pool instance (as if in another process) takes a channel as the run starts,
    /// works a little and dies: no release, no renewal. Until its local deadline (acquire sent + lease
    /// - 10 %) it could still be writing, so that is the end of its use in the journal: a backend that
    /// handed the channel out earlier shows up as an overlap. Returns when it died, or null if it
    /// found no free channel (all taken by then).
    /// </summary>
    private async Task<long?> KillOneWorkerAsync(ChannelPool doomed, CancellationToken stop)
    {
        try
        {
            KillStage = "acquiring";
            var sent = Stopwatch.GetTimestamp();
            var lease = await doomed.TryAcquireAsync(stop).ConfigureAwait(false);
            if (lease is null)
            {
                KillStage = "found no free channel";
                return null;
            }

            KillStage = $"holding {lease.ChannelId}";
            await Task.Delay(100, stop).ConfigureAwait(false);

            // The kill: the pool stops without releasing; the handle is abandoned.
            await doomed.DisposeAsync().ConfigureAwait(false);
            var died = Stopwatch.GetTimestamp();
            var deadline = sent + (long)(settings.LeaseDuration.TotalSeconds * 0.9 * Stopwatch.Frequency);
            
            // From the moment the acquire was sent (the lease is granted after that; a late resume cannot shift it).
            _journal.Add(new ChannelUse(lease.ChannelId, lease.FencingToken, sent, deadline, Worker: 0, Released: true));
            KillStage = $"killed holding {lease.ChannelId}";
            return died;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            KillStage = "not killed (run too short)";
            return null;
        }
    }

    /// <summary>
    /// Again and again until the end: a worker in its own pool instance whose clock stands still (a
    /// process paused by a GC or a VM stall: no renewal, no local deadline) takes a channel, reads its
    /// sequence number, sleeps past its lease, wakes believing it still holds the channel and stores
    /// the next number. The backend must refuse that write (the lease ran out; likely another holder
    /// has used the channel since).
    /// </summary>
    private async Task PauseWorkersAsync(string name, string[] channels, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await using var frozen = new ChannelPool(backend.Leases, PoolOptions(name, channels, autoRenew: false), new PausedClock());
                var lease = await frozen.TryAcquireAsync(stop).ConfigureAwait(false);
                if (lease is null)
                {
                    await Task.Delay(20, stop).ConfigureAwait(false);
                    continue;
                }

                var sequence = await lease.GetStateAsync(DemoJson.Default.Int64, stop).ConfigureAwait(false);
                await Task.Delay(settings.LeaseDuration * 1.5, stop).ConfigureAwait(false);
                if (await lease.TrySetStateAsync(sequence + 1, DemoJson.Default.Int64, CancellationToken.None).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref _pausedAccepted);
                    _sequences.Enqueue((lease.ChannelId, sequence));
                }
                else
                {
                    Interlocked.Increment(ref _pausedRefused);
                    Interlocked.Increment(ref _refused);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended during a pause: that write is not tried.
        }
    }

    /// <summary>
    /// Per channel: the sequence numbers whose next value was stored must be 0, 1, 2, ... (no gap, no
    /// repeat), and the stored state the count of them.
    /// </summary>
    private async Task<List<string>> CheckSequencesAsync(string name, string[] channels)
    {
        var problems = new List<string>();
        var used = _sequences.ToLookup(s => s.Channel, s => s.Sequence, StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            var numbers = used[channel].Order().ToArray();
            var wrong = -1;
            for (var i = 0; i < numbers.Length && wrong < 0; i++)
            {
                wrong = numbers[i] == i ? -1 : i;
            }

            if (wrong >= 0)
            {
                var kind = numbers[wrong] < wrong ? "repeat" : "gap";
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{channel}: sequence number {numbers[wrong]} where {wrong} was due ({kind})"));
            }

            var stored = await backend.Leases.ReadStateAsync(channel, name).ConfigureAwait(false);
            var last = stored is null ? 0 : System.Text.Json.JsonSerializer.Deserialize(stored.Data.Span, DemoJson.Default.Int64);
            if (last != numbers.Length)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{channel}: stored next sequence number {last}, but {numbers.Length} were used"));
            }
        }

        return problems;
    }

    /// <summary>
    /// Halfway through, several workers send the same payment at once, each through its own
    /// <see cref="IdempotentExecutor"/> (as if in its own process): one runs it, the others wait and
    /// replay its receipt. Counts how often the payment really ran.
    /// </summary>
    private async Task<PaymentReport?> SendPaymentAsync(string name, CancellationToken stop)
    {
        if (backend.Idempotency is not { } store)
        {
            return null;
        }

        try
        {
            await Task.Delay(settings.Duration / 2, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }

        var key = $"payment-{name}";
        var executions = 0;
        var executors = Enumerable.Range(0, settings.PaymentSenders).Select(_ => new IdempotentExecutor(store)).ToArray();
        try
        {
            var sends = executors.Select(executor => Task.Run(() => executor.ExecuteAsync(
                key,
                async cancellationToken =>
                {
                    Interlocked.Increment(ref executions);
                    await Task.Delay(200, cancellationToken).ConfigureAwait(false); // the payment provider's round trip
                    return $"receipt-{Guid.NewGuid():N}";
                },
                fingerprint: "amount=100;currency=EUR",
                CancellationToken.None))).ToArray();
            var results = await Task.WhenAll(sends).ConfigureAwait(false);
            if (results.Select(r => r.Value).Distinct(StringComparer.Ordinal).Count() != 1)
            {
                Interlocked.Increment(ref executions); // two receipts: it ran twice whatever the counter says
            }

            return new PaymentReport(settings.PaymentSenders, Volatile.Read(ref executions), results.Count(r => r.Replayed));
        }
        finally
        {
            foreach (var executor in executors)
            {
                await executor.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string Since(long started, long timestamp) =>
        Stopwatch.GetElapsedTime(started, timestamp).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>JSON metadata of the demo's channel state (a sequence number), for trimmed builds.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
internal sealed partial class DemoJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// The clock of a paused process: time stands still and no timer fires, so a pool on it never renews and
/// never reaches its local deadline; only the backend's clock moves on.
/// </summary>
internal sealed class PausedClock : TimeProvider
{
    private readonly DateTimeOffset _now = System.GetUtcNow();
    private readonly long _timestamp = System.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _timestamp;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

    private sealed class NeverTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
