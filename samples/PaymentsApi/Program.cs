using System.Text.Json.Serialization;
using Leasing;
using PaymentsApi;

// An idempotent POST: clients send an Idempotency-Key header; retries and parallel duplicates of one
// key (on any replica) charge once and all get the first response back, status code included.
var builder = WebApplication.CreateBuilder(args);

// One SQLite file here; in production AddPostgresLeasing(...) or AddRedisLeasing(...), shared by every replica.
builder.Services.AddSqliteLeasing(Path.Combine(Path.GetTempPath(), "leasing-payments-api.db"));
builder.Services.AddIdempotentExecutor(o => o.Retention = TimeSpan.FromHours(24));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PaymentsJson.Default));

var app = builder.Build();

app.MapPost("/payments", async (HttpContext http, PaymentRequest request, IdempotentExecutor executor) =>
{
    var key = http.Request.Headers["Idempotency-Key"].ToString();
    if (string.IsNullOrWhiteSpace(key))
    {
        return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The Idempotency-Key header is required.");
    }

    try
    {
        // The request body is the fingerprint: the same key with another body is refused, not replayed.
        var result = await executor.ExecuteAsync(
            key,
            request,
            PaymentsJson.Default.PaymentRequest,
            PaymentsJson.Default.PaymentResponse,
            ChargeAsync,
            http.RequestAborted);
        http.Response.Headers["Idempotent-Replayed"] = result.Replayed ? "true" : "false";
        return Results.Json(result.Value, PaymentsJson.Default.PaymentResponse, statusCode: result.Value.StatusCode);
    }
    catch (IdempotencyKeyReuseException)
    {
        return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "This Idempotency-Key was used with another request body.");
    }
    catch (IdempotencyInProgressException e)
    {
        http.Response.Headers.RetryAfter = Math.Ceiling(e.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "A request with this Idempotency-Key is still being processed.");
    }
});

app.Run();

// The payment provider's round trip. The token fires only if this replica lost the claim or shuts down.
static async Task<PaymentResponse> ChargeAsync(PaymentRequest request, CancellationToken cancellationToken)
{
    await Task.Delay(200, cancellationToken);
    return new PaymentResponse($"pay_{Guid.NewGuid():N}", request.Amount, request.Currency, StatusCodes.Status201Created);
}

namespace PaymentsApi
{
    /// <summary>A payment to make.</summary>
    public sealed record PaymentRequest(decimal Amount, string Currency);

    /// <summary>The payment made, with the HTTP status it was answered with (replayed as is).</summary>
    public sealed record PaymentResponse(string Id, decimal Amount, string Currency, int StatusCode);

    [JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(PaymentRequest))]
    [JsonSerializable(typeof(PaymentResponse))]
    internal sealed partial class PaymentsJson : JsonSerializerContext;
}
