using System.Buffers;
using System.Text.Json;

namespace Leasing;

/// <summary>
/// The stored form of a terminal failure: <c>{"errorType": "...", "message": "..."}</c>. Written and
/// read by hand, so no type is ever created from stored text.
/// </summary>
internal static class StoredFailure
{
    public static byte[] Write(Exception error)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("errorType", error.GetType().FullName ?? error.GetType().Name);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static IdempotentExecutionFailedException Read(string key, ReadOnlySpan<byte> payload)
    {
        var errorType = "unknown";
        var message = string.Empty;
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (document.RootElement.TryGetProperty("errorType", out var type) && type.ValueKind == JsonValueKind.String)
                {
                    errorType = type.GetString()!;
                }

                if (document.RootElement.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    message = text.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Written by something else: replay what can be said.
            message = "The stored failure could not be read.";
        }

        return new IdempotentExecutionFailedException(key, errorType, message);
    }
}
