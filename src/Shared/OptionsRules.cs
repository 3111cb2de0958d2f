// Compiled into each package that has options (linked source, internal in each): the packages share
// no internals.
using Microsoft.Extensions.Options;

namespace Leasing.Internal;

/// <summary>
/// The one way an options type is validated: its validator lists every broken rule once (each
/// failure names the option and the rule), and the same list serves both entry points: host start
/// (<see cref="IValidateOptions{TOptions}"/>, so <c>ValidateOnStart</c> reports it) and direct
/// construction (<see cref="ThrowIfInvalid"/>: an <see cref="ArgumentException"/> naming the parameter,
/// before any I/O).
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
/// <typeparam name="TSelf">The validator (one instance serves every call).</typeparam>
internal abstract class OptionsRules<TOptions, TSelf> : IValidateOptions<TOptions>
    where TOptions : class
    where TSelf : OptionsRules<TOptions, TSelf>, new()
{
    private static readonly TSelf Instance = new();

    /// <summary>Every rule <paramref name="options"/> breaks, one message each; empty when valid.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The failures.</returns>
    public static List<string> Check(TOptions options)
    {
        var failures = new List<string>();
        Instance.AddFailures(options, failures);
        return failures;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming every broken rule.</summary>
    /// <param name="options">The options.</param>
    /// <param name="paramName">The parameter the options came in.</param>
    public static void ThrowIfInvalid(TOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(options, paramName);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Adds a message for every rule <paramref name="options"/> breaks.</summary>
    /// <param name="options">The options.</param>
    /// <param name="failures">Where the messages go.</param>
    protected abstract void AddFailures(TOptions options, List<string> failures);
}
