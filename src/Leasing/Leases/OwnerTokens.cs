using System.Security.Cryptography;

namespace Leasing;

/// <summary>Creates owner tokens: 128 bits from <see cref="RandomNumberGenerator"/>, as 32 lowercase hex digits.</summary>
public static class OwnerTokens
{
    /// <summary>Creates a new owner token that is never reused.</summary>
    /// <returns>32 lowercase hex digits.</returns>
    public static string Create()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
