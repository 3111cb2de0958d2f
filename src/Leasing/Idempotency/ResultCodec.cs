using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Leasing;

/// <summary>
/// Serialises results (and fenced state) and fingerprints inputs with System.Text.Json: with a JsonTypeInfo (trimming, AOT) or with
/// options (reflection; null: the default options). The reflection path is reached only from the executor's
/// and the lease handles' overloads without a JsonTypeInfo, which carry <see cref="RequiresUnreferencedCodeAttribute"/> and
/// <see cref="RequiresDynamicCodeAttribute"/>: their callers see the warning, so it is not repeated here.
/// </summary>
internal static class ResultCodec
{
    /// <summary>The fingerprint of a call that gives none: every such call on the key matches.</summary>
    public const string NoFingerprint = "-";

    public static byte[] Serialize<T>(T value, JsonTypeInfo<T>? typeInfo, JsonSerializerOptions? options) =>
        typeInfo is null ? SerializeReflection(value, options) : JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);

    public static T Deserialize<T>(ReadOnlySpan<byte> payload, JsonTypeInfo<T>? typeInfo, JsonSerializerOptions? options) =>
        (typeInfo is null ? DeserializeReflection<T>(payload, options) : JsonSerializer.Deserialize(payload, typeInfo))!;

    /// <summary>SHA-256 of the input's JSON, as 64 lowercase hex digits.</summary>
    public static string Fingerprint<T>(T input, JsonTypeInfo<T>? typeInfo, JsonSerializerOptions? options) =>
        Convert.ToHexStringLower(SHA256.HashData(Serialize(input, typeInfo, options)));

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only from overloads marked RequiresUnreferencedCode/RequiresDynamicCode; the JsonTypeInfo overloads serve trimmed and AOT apps.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only from overloads marked RequiresUnreferencedCode/RequiresDynamicCode; the JsonTypeInfo overloads serve trimmed and AOT apps.")]
    private static byte[] SerializeReflection<T>(T value, JsonSerializerOptions? options) => JsonSerializer.SerializeToUtf8Bytes(value, options ?? JsonSerializerOptions.Default);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only from overloads marked RequiresUnreferencedCode/RequiresDynamicCode; the JsonTypeInfo overloads serve trimmed and AOT apps.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only from overloads marked RequiresUnreferencedCode/RequiresDynamicCode; the JsonTypeInfo overloads serve trimmed and AOT apps.")]
    private static T? DeserializeReflection<T>(ReadOnlySpan<byte> payload, JsonSerializerOptions? options) => JsonSerializer.Deserialize<T>(payload, options ?? JsonSerializerOptions.Default);
}
