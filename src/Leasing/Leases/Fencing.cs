namespace Leasing;

/// <summary>The fencing rule every backend applies: the next token is max(stored + 1, backend clock in microseconds).</summary>
/// <remarks>
/// The counter survives release; when the stored state is gone (eviction, restart without
/// persistence) the clock term still moves the token forward, provided the backend clock does not
/// step back past the last token issued.
/// </remarks>
public static class Fencing
{
    /// <summary>Computes the next fencing token.</summary>
    /// <param name="stored">The last token stored for the key; 0 when none is stored.</param>
    /// <param name="backendNow">The backend's clock.</param>
    /// <returns>A token greater than <paramref name="stored"/> and at least the clock in microseconds since the Unix epoch.</returns>
    public static long Next(long stored, DateTimeOffset backendNow) =>
        Math.Max(stored + 1, ToUnixMicroseconds(backendNow));

    /// <summary>Microseconds since the Unix epoch.</summary>
    /// <param name="time">The instant.</param>
    /// <returns>The instant in microseconds since 1970-01-01T00:00:00Z.</returns>
    public static long ToUnixMicroseconds(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerMillisecond / 1000);
}
