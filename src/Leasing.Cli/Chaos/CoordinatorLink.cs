using System.Collections.Concurrent;

namespace Leasing.Cli.Chaos;

/// <summary>
/// A worker's side of the line protocol (<see cref="ChaosWire"/>): sends lines on standard output,
/// waits for answers on standard input, and stops the worker when the coordinator says so or goes
/// away (its end of the pipe closes: a worker never outlives its coordinator).
/// </summary>
internal sealed class CoordinatorLink(TextWriter output, TextReader input) : IDisposable
{
    private readonly Lock _write = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private long _sequence;

    /// <summary>Cancelled when the coordinator asks the worker to stop, or is gone.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Set when the coordinator is gone (standard input closed): the worker exits at once.</summary>
    public bool CoordinatorGone { get; private set; }

    public void Send(params object?[] fields)
    {
        var line = ChaosWire.Line(fields);
        lock (_write)
        {
            output.Write(line);
            output.Write('\n');
            output.Flush();
        }
    }

    /// <summary>Sends a request (its sequence number goes after the kind) and waits for the coordinator's yes or no.</summary>
    public async Task<bool> AskAsync(string kind, params object?[] fields)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[sequence] = answer;
        Send([kind, sequence, .. fields]);
        return await answer.Task.ConfigureAwait(false);
    }

    /// <summary>Reads the coordinator's lines until it says stop or closes the pipe.</summary>
    public async Task ListenAsync()
    {
        while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            var fields = line.Split(ChaosWire.Separator);
            if (fields[0] == "A" && _pending.TryRemove(ChaosWire.Long(fields[1]), out var answer))
            {
                answer.TrySetResult(fields[2] == "1");
            }
            else if (fields[0] == "S")
            {
                await _stop.CancelAsync().ConfigureAwait(false);
            }
        }

        CoordinatorGone = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var pending in _pending.Values)
        {
            pending.TrySetCanceled();
        }
    }

    public void Dispose() => _stop.Dispose();
}
