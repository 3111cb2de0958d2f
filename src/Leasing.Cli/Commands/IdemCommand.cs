using System.CommandLine;
using System.Globalization;
using System.Text;
using Leasing.Cli.Backends;
using Spectre.Console;

namespace Leasing.Cli.Commands;

/// <summary><c>leasing idem show|evict</c>: look at and remove idempotency records of a real deployment.</summary>
internal static class IdemCommand
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static Command Create(CliConsole console) => new("idem", "Inspect and evict idempotency records.")
    {
        Show(console),
        Evict(console),
    };

    private static Argument<string> KeyArgument() => new("key") { Description = "The idempotency key, as the application passed it (with its scope)." };

    private static Command Show(CliConsole console)
    {
        var key = KeyArgument();
        var json = CommandSupport.JsonOption();
        var backend = new BackendOptions(required: true);
        var command = new Command("show", "Show the record of one idempotency key: status, attempts, fencing token, lease, stored result.") { key, json };
        backend.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandSupport.WithBackendAsync(result, backend, async opened =>
        {
            var store = StoreOf(opened);
            var id = result.GetValue(key)!;
            LeaseArguments.ThrowIfInvalidKey(id, "key");
            var record = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                console.WriteError($"no idempotency record for key '{id}' on {opened.Choice}.");
                return ExitCodes.Failed;
            }

            var payload = record.Result?.ToArray();
            var text = payload is null ? null : TryUtf8(payload);
            if (result.GetValue(json))
            {
                // The stored result is JSON (System.Text.Json): shown as JSON, not as an escaped string.
                // Text that is not JSON goes in resultText, other bytes in resultBase64; absent ones are null.
                var parsed = text is null ? null : TryJson(text);
                CommandSupport.WriteJson(console, new
                {
                    record.Key,
                    record.Status,
                    record.Fingerprint,
                    record.LeaseExpiresAt,
                    record.Attempt,
                    record.FencingToken,
                    ResultBytes = payload?.Length,
                    Result = parsed,
                    ResultText = parsed is null ? text : null,
                    ResultBase64 = payload is null || text is not null ? null : Convert.ToBase64String(payload),
                });
                return ExitCodes.Ok;
            }

            var grid = new Grid().AddColumn().AddColumn();
            void Row(string name, string? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), CommandSupport.Cell(value));
            Row("key", record.Key);
            Row("status", record.Status.ToString());
            Row("attempt", record.Attempt.ToString(CultureInfo.InvariantCulture));
            Row("fencing token", record.FencingToken.ToString(CultureInfo.InvariantCulture));
            Row("lease expires at", CommandSupport.Time(record.LeaseExpiresAt));
            Row("fingerprint", record.Fingerprint);
            Row("result", payload is null ? null : text ?? $"{payload.Length} bytes (not text; --json shows them in base64)");
            console.Ansi.Write(new Panel(grid).Header(Markup.Escape($"idempotency record on {opened.Choice}")).Border(BoxBorder.Rounded));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command Evict(CliConsole console)
    {
        var key = KeyArgument();
        var json = CommandSupport.JsonOption();
        var yes = CommandSupport.YesOption();
        var backend = new BackendOptions(required: true);
        var command = new Command(
            "evict",
            "Remove the record of one idempotency key (IIdempotencyStore.EvictAsync): the next call with that key runs the action again " +
            "(running executors that ran or replayed it lately replay from memory until their IdempotencyOptions.ReplayCacheDuration, 30 s by default, passes). " +
            "Asks for confirmation unless --yes.")
        {
            key,
            json,
            yes,
        };
        backend.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandSupport.WithBackendAsync(result, backend, async opened =>
        {
            var store = StoreOf(opened);
            var id = result.GetValue(key)!;
            LeaseArguments.ThrowIfInvalidKey(id, "key");
            var stop = await CommandSupport.ConfirmAsync(
                console,
                result.GetValue(yes),
                "evict an idempotency record",
                $"Evict the idempotency record of '{id}' on {opened.Choice}? The next call with this key runs its action again.",
                cancellationToken).ConfigureAwait(false);
            if (stop is { } code)
            {
                return code;
            }

            var evicted = await store.EvictAsync(id, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                CommandSupport.WriteJson(console, new { Key = id, Evicted = evicted });
            }
            else
            {
                console.Out.WriteLine(evicted ? $"evicted the record of '{id}'." : $"no record for '{id}'; nothing changed.");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static IIdempotencyStore StoreOf(Backend backend) =>
        backend.Idempotency ?? throw new NotSupportedException($"The {backend.Choice.Kind.ToString().ToLowerInvariant()} backend has no idempotency store in this build.");

    private static System.Text.Json.JsonElement? TryJson(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? TryUtf8(byte[] bytes)
    {
        try
        {
            var text = StrictUtf8.GetString(bytes);
            return text.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t') ? null : text;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
