using System.Globalization;

namespace Leasing.Cli.Chaos;

/// <summary>
/// The line protocol between the coordinator and its worker processes: one tab-separated line per
/// message, workers on standard output, the coordinator's answers on the worker's standard input.
/// Times are <see cref="System.Diagnostics.Stopwatch"/> timestamps (one monotonic clock per host).
/// </summary>
/// <remarks>
/// Worker to coordinator (requests carry a sequence number and wait for <c>A seq 1|0</c>):
/// <list type="bullet">
/// <item><c>H pid</c>: ready.</item>
/// <item><c>B seq key token sent granted</c>: a holder begins (the fenced sink hears its token).</item>
/// <item><c>W seq key token at</c>: the holder's fenced write after its work.</item>
/// <item><c>Q key token sequence readAt storedAt stored(1|0)</c>: the holder stored (or was refused) the resource's next sequence number as fenced state.</item>
/// <item><c>R key token end releasedAt released(1|0|-) lost(1|0)</c>: the work ended and the release returned.</item>
/// <item><c>X seq key token at</c>: a payment's action charged under its claim token (waits, so it is journalled before the action returns).</item>
/// <item><c>E key token outcome at</c>: a payment call ended (token 0 when it did not execute).</item>
/// <item><c>C resource at</c>: an acquire (or payment call) gave up because the worker cancelled its token.</item>
/// <item><c>F kind</c>: an error the worker rode through.</item>
/// </list>
/// Coordinator to worker: <c>A seq 1|0</c> (answer), <c>S</c> (stop: finish the current use, release, exit).
/// </remarks>
internal static class ChaosWire
{
    public const char Separator = '\t';

    public static string Line(params object?[] fields) => string.Join(Separator, fields.Select(Format));

    public static long Long(string text) => long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    public static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    public static bool? Flag(string text) => text switch
    {
        "1" => true,
        "0" => false,
        _ => null,
    };

    private static string Format(object? field) => field switch
    {
        bool b => b ? "1" : "0",
        null => "-",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => field.ToString() ?? "-",
    };
}
