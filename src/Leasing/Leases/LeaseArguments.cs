using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Leasing;

/// <summary>
/// The argument rules every backend applies before any I/O, in one place so that all backends
/// reject the same input with the same message. <see cref="LeaseStore"/> and <see cref="IdempotencyStore"/>
/// apply them for a backend built on them; a backend that implements the interfaces directly calls these first.
/// </summary>
public static class LeaseArguments
{
    /// <summary>The longest key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 512;

    /// <summary>The largest fenced state a key or pool member can carry, in bytes (64 KiB).</summary>
    public const int MaxStateBytes = 65_536;

    /// <summary>The longest ttl or cooldown.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);

    /// <summary>Throws when <paramref name="key"/> is null, empty, whitespace or longer than <see cref="MaxKeyBytes"/> UTF-8 bytes.</summary>
    /// <param name="key">The key (or pool name, or member id).</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentNullException">The key is null.</exception>
    /// <exception cref="ArgumentException">The key is empty, whitespace or too long.</exception>
    public static void ThrowIfInvalidKey(string? key, string paramName)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (!IsValidKey(key, out var rule))
        {
            throw new ArgumentException(rule, paramName);
        }
    }

    /// <summary>
    /// Checks <paramref name="key"/> against the key rules without throwing, e.g. for channel ids read
    /// from configuration.
    /// </summary>
    /// <param name="key">The key (or pool name, or member id).</param>
    /// <param name="brokenRule">When invalid, the rule it breaks: the message <see cref="ThrowIfInvalidKey"/> would throw.</param>
    /// <returns>True when every backend can store the key.</returns>
    public static bool IsValidKey([NotNullWhen(true)] string? key, [NotNullWhen(false)] out string? brokenRule)
    {
        brokenRule = key switch
        {
            null => "A key is required.",
            _ when string.IsNullOrWhiteSpace(key) => "A key must not be empty or whitespace.",
            _ when NotStorableText(key, "A key") is { } notStorable => notStorable,

            // Fast path: a key of at most MaxKeyBytes/3 chars cannot exceed MaxKeyBytes bytes.
            _ when key.Length > MaxKeyBytes / 3 && Encoding.UTF8.GetByteCount(key) > MaxKeyBytes =>
                $"A key must be at most {MaxKeyBytes} bytes in UTF-8; this one is {Encoding.UTF8.GetByteCount(key)}.",
            _ => null,
        };
        return brokenRule is null;
    }

    /// <summary>
    /// Says why <paramref name="text"/> cannot be stored as given: it holds NUL (PostgreSQL text refuses
    /// it) or a lone surrogate (UTF-8 turns every one into U+FFFD, so two different keys would share one
    /// backend key); <see langword="null"/> when it can.
    /// </summary>
    private static string? NotStorableText(string text, string what)
    {
        var span = text.AsSpan();
        var nul = span.IndexOf('\0');
        if (nul >= 0)
        {
            return $"{what} must not contain the NUL character (found at index {nul}).";
        }

        var surrogate = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (surrogate < 0)
        {
            return null;
        }

        for (var i = surrogate; i < span.Length; i++)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(span[i]))
            {
                return $"{what} must be valid UTF-16: a lone surrogate at index {i} has no UTF-8 form.";
            }
        }

        return null;
    }

    /// <summary>Throws when <paramref name="ttl"/> is not positive or exceeds <see cref="MaxTtl"/>.</summary>
    /// <param name="ttl">The ttl or cooldown.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentOutOfRangeException">The duration is out of range.</exception>
    public static void ThrowIfInvalidTtl(TimeSpan ttl, string paramName)
    {
        if (ttl <= TimeSpan.Zero || ttl > MaxTtl)
        {
            throw new ArgumentOutOfRangeException(paramName, ttl, $"A duration must be greater than zero and at most {MaxTtl}.");
        }
    }

    /// <summary>The longest retention of an idempotency outcome.</summary>
    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(30);

    /// <summary>The longest idempotency fingerprint, in UTF-8 bytes.</summary>
    public const int MaxFingerprintBytes = 512;

    /// <summary>Throws when <paramref name="fingerprint"/> is null, empty, whitespace or longer than <see cref="MaxFingerprintBytes"/> UTF-8 bytes.</summary>
    /// <param name="fingerprint">The fingerprint of an idempotent call's input.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentNullException">The fingerprint is null.</exception>
    /// <exception cref="ArgumentException">The fingerprint is empty, whitespace or too long.</exception>
    public static void ThrowIfInvalidFingerprint(string? fingerprint, string paramName)
    {
        ArgumentNullException.ThrowIfNull(fingerprint, paramName);
        if (string.IsNullOrWhiteSpace(fingerprint))
        {
            throw new ArgumentException("A fingerprint must not be empty or whitespace.", paramName);
        }

        if (NotStorableText(fingerprint, "A fingerprint") is { } notStorable)
        {
            throw new ArgumentException(notStorable, paramName);
        }
        if (fingerprint.Length > MaxFingerprintBytes / 3 && Encoding.UTF8.GetByteCount(fingerprint) > MaxFingerprintBytes)
        {
            throw new ArgumentException($"A fingerprint must be at most {MaxFingerprintBytes} bytes in UTF-8; this one is {Encoding.UTF8.GetByteCount(fingerprint)}.", paramName);
        }
    }

    /// <summary>Throws when an owner token is null or empty.</summary>
    /// <param name="ownerToken">The owner token from a claim.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentNullException">The token is null.</exception>
    /// <exception cref="ArgumentException">The token is empty.</exception>
    public static void ThrowIfInvalidOwnerToken(string? ownerToken, string paramName)
    {
        ArgumentNullException.ThrowIfNull(ownerToken, paramName);
        if (ownerToken.Length == 0)
        {
            throw new ArgumentException("An owner token must not be empty.", paramName);
        }
    }

    /// <summary>Throws when <paramref name="retention"/> is not positive or exceeds <see cref="MaxRetention"/>.</summary>
    /// <param name="retention">How long an outcome is kept.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentOutOfRangeException">The retention is out of range.</exception>
    public static void ThrowIfInvalidRetention(TimeSpan retention, string paramName)
    {
        if (retention <= TimeSpan.Zero || retention > MaxRetention)
        {
            throw new ArgumentOutOfRangeException(paramName, retention, $"A retention must be greater than zero and at most {MaxRetention}.");
        }
    }

    /// <summary>Throws when a lease is null or carries an invalid key or pool.</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">The lease is malformed.</exception>
    public static void ThrowIfInvalidLease(Lease? lease, string paramName)
    {
        ArgumentNullException.ThrowIfNull(lease, paramName);
        ThrowIfInvalidKey(lease.Key, paramName);
        if (lease.Pool is not null)
        {
            ThrowIfInvalidKey(lease.Pool, paramName);
        }

        if (string.IsNullOrEmpty(lease.Token))
        {
            throw new ArgumentException("A lease must carry its owner token.", paramName);
        }
    }

    /// <summary>Throws when <paramref name="state"/> is larger than <see cref="MaxStateBytes"/>.</summary>
    /// <param name="state">The state to store.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">The state is too large.</exception>
    public static void ThrowIfInvalidState(ReadOnlyMemory<byte> state, string paramName)
    {
        if (state.Length > MaxStateBytes)
        {
            throw new ArgumentException($"A lease's state must be at most {MaxStateBytes} bytes; this one is {state.Length}.", paramName);
        }
    }

    /// <summary>Throws as <see cref="ThrowIfInvalidLease"/>, and when the lease is not a pool member's (<see cref="Lease.Pool"/> is null).</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">The lease is invalid or not a pool member's.</exception>
    public static void ThrowIfInvalidPoolLease(Lease? lease, string paramName)
    {
        ThrowIfInvalidLease(lease, paramName);
        if (lease!.Pool is null)
        {
            throw new ArgumentException("A pool member's lease is needed here; this one is a single key's (Lease.Pool is null).", paramName);
        }
    }

    /// <summary>Throws when a member list is null or empty, or holds an invalid or duplicate member.</summary>
    /// <param name="members">The members.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">The list is empty or holds an invalid or duplicate member.</exception>
    public static void ThrowIfInvalidMembers(IReadOnlyCollection<string>? members, string paramName)
    {
        ArgumentNullException.ThrowIfNull(members, paramName);
        if (members.Count == 0)
        {
            throw new ArgumentException("A pool needs at least one member.", paramName);
        }

        var seen = new HashSet<string>(members.Count, StringComparer.Ordinal);
        foreach (var member in members)
        {
            ThrowIfInvalidKey(member, paramName);
            if (!seen.Add(member))
            {
                throw new ArgumentException($"Pool members must be distinct; '{member}' appears more than once.", paramName);
            }
        }
    }

    /// <summary>Throws when a key list is null or holds an invalid key.</summary>
    /// <param name="keys">The keys.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">A key is invalid.</exception>
    public static void ThrowIfInvalidKeys(IReadOnlyList<string>? keys, string paramName)
    {
        ArgumentNullException.ThrowIfNull(keys, paramName);
        for (var i = 0; i < keys.Count; i++)
        {
            ThrowIfInvalidKey(keys[i], paramName);
        }
    }
}
