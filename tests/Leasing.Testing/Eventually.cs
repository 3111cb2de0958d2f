namespace Leasing.Testing;

/// <summary>
/// Waits for a condition that background work (a heartbeat after a fake-clock advance, a
/// notification) makes true, checking it on every yield and failing after a real-time limit.
/// Not a sleep: it returns as soon as the condition holds.
/// </summary>
public static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds or <paramref name="limit"/> (default 10 s) passes.</summary>
    public static async Task TrueAsync(Func<bool> condition, string because, TimeSpan? limit = null)
    {
        var deadline = Environment.TickCount64 + (long)(limit ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        var spins = 0;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Condition not met within {(limit ?? TimeSpan.FromSeconds(10)).TotalSeconds:0.#} s: {because}");
            }

            // Yield first; back off to short waits so a busy machine is not spun on.
            if (++spins < 50)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1);
            }
        }
    }
}
