namespace Leasing.Cli.Chaos;

/// <summary>
/// Everything a chaos run recorded: the uses of channels and lock keys with their fenced writes, the
/// payments' executions, the cancellations inside workers and the faults the coordinator injected.
/// Filled from the workers' lines while the run goes (thread-safe), read by <see cref="ChaosChecks"/> at the end.
/// </summary>
internal sealed class ChaosJournal
{
    private readonly object _gate = new();
    private readonly FencedSink _sink = new();
    private readonly List<ChaosUse> _uses = [];
    private readonly Dictionary<(int Process, string Key, long Token), ChaosUse> _open = [];
    private readonly List<ChaosWrite> _writes = [];
    private readonly List<ChaosSequence> _sequences = [];
    private readonly List<ChaosCharge> _charges = [];
    private readonly List<ChaosExecution> _executions = [];
    private readonly List<ChaosCancel> _cancels = [];
    private readonly List<ChaosFault> _faults = [];
    private readonly List<ChaosClockStep> _clockSteps = [];
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly List<(string Kind, int Process, long At, string Detail)> _failureLog = [];

    public IReadOnlyList<ChaosUse> Uses => _uses;

    public IReadOnlyList<ChaosWrite> Writes => _writes;

    public IReadOnlyList<ChaosCharge> Charges => _charges;

    /// <summary>The fenced-state writes of the resources' sequence numbers.</summary>
    public IReadOnlyList<ChaosSequence> Sequences => _sequences;

    public IReadOnlyList<ChaosExecution> Executions => _executions;

    public IReadOnlyList<ChaosCancel> Cancels => _cancels;

    public IReadOnlyList<ChaosFault> Faults => _faults;

    /// <summary>Steps of this host's wall clock against its monotonic clock (not faults the run injected; see <see cref="ClockWatch"/>).</summary>
    public IReadOnlyList<ChaosClockStep> ClockSteps => _clockSteps;

    /// <summary>Errors the workers met and rode through (store unavailable, pool exhausted, lock timeout...), by kind.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    /// <summary>Acquisitions so far (for live progress).</summary>
    public int Acquisitions
    {
        get
        {
            lock (_gate)
            {
                return _uses.Count;
            }
        }
    }

    /// <summary>A holder begins: the use is journalled and its token announced to the fenced sink.</summary>
    public bool Begin(ChaosUse use)
    {
        lock (_gate)
        {
            var (accepted, index) = _sink.Begin(use.Key, use.Token, use.Sent);
            use.BeginIndex = index;
            _uses.Add(use);
            _open[(use.Process, use.Key, use.Token)] = use;
            return accepted;
        }
    }

    /// <summary>A holder writes to the fenced sink after its work; returns whether the sink accepted it.</summary>
    public bool Write(int process, string key, long token, long at)
    {
        lock (_gate)
        {
            var (beginIndex, granted) = (long.MaxValue, long.MaxValue);
            if (_open.TryGetValue((process, key, token), out var use))
            {
                (beginIndex, granted) = (use.BeginIndex, use.Granted);
                use.WrittenAt = at;
            }

            var (accepted, successorBegan) = _sink.Write(key, token, beginIndex, granted);
            _writes.Add(new ChaosWrite(key, token, process, at, accepted, successorBegan));
            return accepted;
        }
    }

    /// <summary>A holder stored (or was refused) its resource's next sequence number.</summary>
    public void Sequence(ChaosSequence sequence)
    {
        lock (_gate)
        {
            _sequences.Add(sequence);
        }
    }

    /// <summary>The holder's work ended at <paramref name="end"/> and its release returned <paramref name="released"/> (null: failed).</summary>
    public void End(int process, string key, long token, long end, long releasedAt, bool? released, bool lost, long expiresAtEnd)
    {
        lock (_gate)
        {
            if (_open.Remove((process, key, token), out var use))
            {
                use.ExpiresAtEnd = expiresAtEnd;
                use.End = end;
                use.ReleasedAt = releasedAt;
                use.Released = released;
                use.Lost = lost;
            }
        }
    }

    /// <summary>The keys <paramref name="process"/> holds now (begun, not ended).</summary>
    public IReadOnlyList<string> OpenKeys(int process)
    {
        lock (_gate)
        {
            return [.. _open.Keys.Where(k => k.Process == process).Select(k => k.Key)];
        }
    }

    /// <summary><paramref name="process"/> was killed: its open uses end there, never released.</summary>
    public void Killed(int process, long at)
    {
        lock (_gate)
        {
            foreach (var entry in _open.Where(e => e.Key.Process == process).ToList())
            {
                entry.Value.KilledAt = at;
                _open.Remove(entry.Key);
            }
        }
    }

    public void Charge(ChaosCharge charge)
    {
        lock (_gate)
        {
            _charges.Add(charge);
        }
    }

    public void Executed(ChaosExecution execution)
    {
        lock (_gate)
        {
            _executions.Add(execution);
        }
    }

    public void Cancelled(ChaosCancel cancel)
    {
        lock (_gate)
        {
            _cancels.Add(cancel);
        }
    }

    public void Failed(string kind, int process = 0, long at = 0, string detail = "")
    {
        lock (_gate)
        {
            _failures[kind] = _failures.GetValueOrDefault(kind) + 1;
            if (_failureLog.Count < 100_000)
            {
                _failureLog.Add((kind, process, at, detail));
            }
        }
    }

    public void Fault(ChaosFault fault)
    {
        lock (_gate)
        {
            _faults.Add(fault);
        }
    }

    /// <summary>The clock watch saw a step of this host's wall clock.</summary>
    public void ClockStepped(ChaosClockStep step)
    {
        lock (_gate)
        {
            _clockSteps.Add(step);
        }
    }

    /// <summary>Adds a finished use at once (for tests of the checks).</summary>
    public void Add(ChaosUse use)
    {
        lock (_gate)
        {
            _uses.Add(use);
        }
    }

    /// <summary>Adds a judged write at once (for tests of the checks).</summary>
    public void Add(ChaosWrite write)
    {
        lock (_gate)
        {
            _writes.Add(write);
        }
    }

    /// <summary>Writes every record as a tab-separated line, times in milliseconds since <paramref name="epoch"/>.</summary>
    public async Task DumpAsync(string path, long epoch)
    {
        string Ms(long? at) => at is { } t ? System.Diagnostics.Stopwatch.GetElapsedTime(epoch, t).TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) : "-";
        var lines = new List<string>();
        lock (_gate)
        {
            lines.AddRange(_faults.Select(f => ChaosWire.Line("fault", f.Kind, Ms(f.Start), Ms(f.End), f.Process, string.Join(',', f.Keys), f.LosesData)));
            lines.AddRange(_clockSteps.Select(c => ChaosWire.Line("clock", Ms(c.From), Ms(c.At), c.Milliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture))));
            lines.AddRange(_uses.Select(u => ChaosWire.Line("use", u.Key, u.Token, u.Process, Ms(u.Sent), Ms(u.Asked ?? u.Sent), Ms(u.Granted), Ms(u.Deadline), Ms(u.End), Ms(u.ReleasedAt), u.Released, u.Lost, Ms(u.KilledAt), u.ExpiresAt, u.ExpiresAtEnd)));
            lines.AddRange(_writes.Select(w => ChaosWire.Line("write", w.Key, w.Token, w.Process, Ms(w.At), w.Accepted, w.SuccessorBegan)));
            lines.AddRange(_charges.Select(c => ChaosWire.Line("charge", c.Key, c.Token, c.Process, Ms(c.At))));
            lines.AddRange(_executions.Select(e => ChaosWire.Line("call", e.Key, e.Token, e.Process, e.Outcome, Ms(e.At))));
            lines.AddRange(_cancels.Select(c => ChaosWire.Line("cancel", c.Resource, c.Process, Ms(c.At))));
            lines.AddRange(_failureLog.Select(f => ChaosWire.Line("error", f.Kind, f.Process, Ms(f.At), f.Detail)));
        }

        await File.WriteAllLinesAsync(path, lines).ConfigureAwait(false);
    }
}
