namespace Leasing;

/// <summary>A wake-up that is never lost: a signal set while nobody waits wakes the next wait at once.</summary>
internal sealed class CompletionSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes the waiter (callable from any thread; never blocks).</summary>
    public void Set() => Volatile.Read(ref _current).TrySetResult();

    /// <summary>Waits for a signal or <paramref name="delay"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (!current.Task.IsCompleted)
        {
            try
            {
                await current.Task.WaitAsync(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The poll is due.
            }
        }

        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }
}
