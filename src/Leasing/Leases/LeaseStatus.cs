namespace Leasing;

/// <summary>The state of a key as the backend sees it.</summary>
public enum LeaseStatus
{
    /// <summary>Nobody holds the key; it can be acquired.</summary>
    Free,

    /// <summary>An unexpired lease holds the key.</summary>
    Held,

    /// <summary>The key was released with a cooldown and cannot be acquired until the cooldown passes.</summary>
    CoolingDown,
}
