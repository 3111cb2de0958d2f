using System.Diagnostics;
using System.Reflection;
using Leasing.Cli.Backends;

namespace Leasing.Cli.Chaos;

/// <summary>
/// One worker OS process as the coordinator sees it: the tool re-executed as <c>chaos-worker</c>,
/// its lines read into the <see cref="ChaosJournal"/> (answering the fenced sink's and the payment
/// journal's requests), its standard error kept in a log file, and the means to kill, pause and wake it.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ChaosJournal _journal;
    private readonly Lock _answer = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reading;
    private readonly Task _logging;
    private int _disposed;
    private TaskCompletionSource<string>? _pauseAtBegin;

    /// <summary>The environment variable that hands a worker its connection string (or SQLite path).</summary>
    public const string ConnectionVariable = "LEASING_CHAOS_CONNECTION";

    private WorkerProcess(int id, Process process, ChaosJournal journal, string log)
    {
        Id = id;
        _process = process;
        _journal = journal;
        _reading = Task.Run(ReadAsync);
        _logging = Task.Run(async () =>
        {
            await using var file = File.AppendText(log);
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await file.WriteLineAsync($"[worker {id} pid {process.Id}] {line}").ConfigureAwait(false);
            }
        });
    }

    /// <summary>The worker's number in this run (a replacement gets a new one).</summary>
    public int Id { get; }

    public int Pid => _process.Id;

    public bool Paused { get; private set; }

    public bool Killed { get; private set; }

    public bool Exited => Volatile.Read(ref _disposed) != 0 || _process.HasExited;

    /// <summary>Completes when every line the worker wrote has been read (it exited, or was killed).</summary>
    public Task Drained => _reading;

    /// <summary>Completes when the worker said it is ready (connected to the backend).</summary>
    public Task Ready => _ready.Task;

    public static WorkerProcess Start(int id, BackendKind kind, string connection, string run, long epoch, ChaosJournal journal, string log)
    {
        var start = SelfStartInfo();
        foreach (var arg in new[] { "chaos-worker", "--backend", kind.ToString(), "--run", run, "--epoch", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        // In the environment, not the arguments: a connection string may hold a password, and `ps` shows arguments.
        start.Environment[ConnectionVariable] = connection;

        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a chaos worker process.");
        return new WorkerProcess(id, process, journal, log);
    }

    /// <summary>kill -9: no release, no renewal, nothing more written.</summary>
    public void Kill()
    {
        Killed = true;
        Signals.Kill(_process.Id); // at once: Process.Kill(entireProcessTree) first walks /proc
    }

    /// <summary>Pauses the worker right after the fenced sink answers its next begin (a holder in the middle of its use); returns the key it holds.</summary>
    public Task<string> PauseAtNextBeginAsync()
    {
        var pause = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _pauseAtBegin, pause);
        return pause.Task;
    }

    /// <summary>Gives up a <see cref="PauseAtNextBeginAsync"/> that has not happened; true if it had not.</summary>
    public bool CancelPauseAtBegin() => Interlocked.Exchange(ref _pauseAtBegin, null) is not null;

    public void Pause()
    {
        Paused = true;
        Signals.Stop(_process.Id);
    }

    public void Resume()
    {
        Signals.Continue(_process.Id);
        Paused = false;
    }

    /// <summary>Asks the worker to finish its current uses and exit; kills it if it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Paused)
        {
            Resume();
        }

        Answer("S"); // standard input stays open: a worker that sees it close exits at once (its coordinator is gone)

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            if (Paused)
            {
                Signals.Continue(_process.Id);
            }

            Kill();
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await Task.WhenAll(_reading, _logging).ConfigureAwait(false);
        _process.Dispose();
    }

    /// <summary>How to run this tool again: its own executable (an app host or tool shim), else <c>dotnet</c> with its assembly.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        var assembly = typeof(WorkerProcess).Assembly;
        var self = Environment.ProcessPath;
        var selfName = self is null ? null : Path.GetFileNameWithoutExtension(self);
        if (self is not null && selfName != "dotnet" && Assembly.GetEntryAssembly() == assembly)
        {
            return new ProcessStartInfo(self);
        }

        var host = selfName == "dotnet" ? self! : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(host);
        start.ArgumentList.Add(assembly.Location);
        return start;
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Handle(line.Split(ChaosWire.Separator));
            }
        }
        finally
        {
            _ready.TrySetResult();
        }
    }

    private void Handle(string[] f)
    {
        switch (f[0])
        {
            case "H":
                _ready.TrySetResult();
                break;
            case "B":
                var deadline = ChaosWire.Long(f[6]);
                var accepted = _journal.Begin(new ChaosUse
                {
                    Key = f[2],
                    Token = ChaosWire.Long(f[3]),
                    Process = Id,
                    Sent = ChaosChecks.ClaimSent(ChaosWire.Long(f[4]), deadline, ChaosSettings.LeaseDuration),
                    Asked = ChaosWire.Long(f[4]),
                    Granted = ChaosWire.Long(f[5]),
                    Deadline = deadline,
                    ExpiresAt = ChaosWire.Long(f[7]),
                });
                if (Interlocked.Exchange(ref _pauseAtBegin, null) is { } pause)
                {
                    // Mid-use, before it hears the answer: it wakes up, works and writes, a zombie.
                    Pause();
                    pause.TrySetResult(f[2]);
                }

                Answer("A", f[1], accepted);

                break;
            case "W":
                Answer("A", f[1], _journal.Write(Id, f[2], ChaosWire.Long(f[3]), ChaosWire.Long(f[4])));
                break;
            case "Q":
                _journal.Sequence(new ChaosSequence(f[1], ChaosWire.Long(f[2]), Id, ChaosWire.Long(f[3]), ChaosWire.Long(f[4]), ChaosWire.Long(f[5]), f[6] == "1"));
                break;
            case "R":
                _journal.End(Id, f[1], ChaosWire.Long(f[2]), ChaosWire.Long(f[3]), ChaosWire.Long(f[4]), ChaosWire.Flag(f[5]), f[6] == "1", ChaosWire.Long(f[7]));
                break;
            case "X":
                _journal.Charge(new ChaosCharge(f[2], ChaosWire.Long(f[3]), Id, ChaosWire.Long(f[4])));
                Answer("A", f[1], true);
                break;
            case "E":
                _journal.Executed(new ChaosExecution(f[1], ChaosWire.Long(f[2]), Id, f[3], ChaosWire.Long(f[4])));
                break;
            case "C":
                _journal.Cancelled(new ChaosCancel(f[1], Id, ChaosWire.Long(f[2])));
                break;
            case "F":
                _journal.Failed(f[1], Id, f.Length > 3 ? ChaosWire.Long(f[2]) : 0, f.Length > 3 ? f[3] : string.Empty);
                break;
            default:
                _journal.Failed($"bad-line:{f[0]}");
                break;
        }
    }

    private void Answer(params object?[] fields)
    {
        if (Killed)
        {
            return;
        }

        var line = ChaosWire.Line(fields);
        lock (_answer)
        {
            try
            {
                _process.StandardInput.Write(line);
                _process.StandardInput.Write('\n');
                _process.StandardInput.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The worker is gone; its lines still drain.
            }
        }
    }
}
