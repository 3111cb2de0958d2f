using System.Text.Json.Serialization;

namespace Leasing.Sql;

/// <summary>Source-generated JSON for the key lists passed as one parameter (no reflection, trimming-safe).</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IReadOnlyCollection<string>))]
[JsonSerializable(typeof(string[][]))]
internal sealed partial class SqlJson : JsonSerializerContext;
