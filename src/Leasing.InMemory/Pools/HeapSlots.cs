using Leasing.Internal;

namespace Leasing.InMemory.Pools;

/// <summary>The slot of the free (least-recently-acquired) index.</summary>
internal readonly struct FreeSlot : IHeapSlot<PoolMember>
{
    public static ref int Of(PoolMember member) => ref member.FreeSlot;
}

/// <summary>The slot of the expiry index (held and cooling members).</summary>
internal readonly struct ExpirySlot : IHeapSlot<PoolMember>
{
    public static ref int Of(PoolMember member) => ref member.ExpirySlot;
}
