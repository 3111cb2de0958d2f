using System.Text;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Bad input throws ArgumentException naming the parameter, before anything is written.
public abstract partial class LeaseStoreConformanceTests
{
    /// <summary>Keys every call rejects: null, empty, whitespace, over 512 UTF-8 bytes (by chars, and by bytes only).</summary>
    public static TheoryData<string?> InvalidKeys => new()
    {
        null,
        string.Empty,
        " ",
        "\t\r\n",
        new string('k', LeaseArguments.MaxKeyBytes + 1),
        string.Concat(Enumerable.Repeat("€", 171)),
    };

    /// <summary>Durations every call rejects, in ticks: zero, negative, over one day.</summary>
    public static TheoryData<long> InvalidTtlTicks => new() { 0, -TimeSpan.TicksPerSecond, TimeSpan.TicksPerDay + 1 };

    /// <summary>Member lists SetPoolMembersAsync rejects, by name.</summary>
    public static TheoryData<string> InvalidMemberLists => new() { "empty", "duplicate", "empty-member", "whitespace-member", "null-member", "too-long-member" };

    [Theory]
    [MemberData(nameof(InvalidKeys), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task TryAcquireAsync_InvalidKey_ThrowsArgumentException(string? invalidKey)
    {
        var act = async () => await Store.TryAcquireAsync(invalidKey!, Ttl);

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("key");
    }

    [Theory]
    [MemberData(nameof(InvalidKeys), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task InspectAndForceRelease_InvalidKey_ThrowArgumentException(string? invalidKey)
    {
        var inspect = async () => await Store.InspectAsync([Unique.Name(), invalidKey!]);
        var force = async () => await Store.ForceReleaseAsync(invalidKey!);

        await inspect.Should().ThrowAsync<ArgumentException>().WithParameterName("keys");
        await force.Should().ThrowAsync<ArgumentException>().WithParameterName("key");
    }

    [Fact]
    public async Task InspectAsync_NullList_ThrowsArgumentException()
    {
        var act = async () => await Store.InspectAsync(null!);

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("keys");
    }

    [Theory]
    [MemberData(nameof(InvalidTtlTicks), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task TryAcquireAsync_InvalidTtl_ThrowsAndWritesNothing(long ttlTicks)
    {
        var key = Unique.Name();

        var act = async () => await Store.TryAcquireAsync(key, TimeSpan.FromTicks(ttlTicks));

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        (await InspectOneAsync(key)).Should().Be(new LeaseState(key, LeaseStatus.Free, null, null, 0));
    }

    [Theory]
    [MemberData(nameof(InvalidTtlTicks), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task PoolAcquire_InvalidTtl_ThrowsAndWritesNothing(long ttlTicks)
    {
        var (pool, members) = await CreatePoolAsync(2);
        var ttl = TimeSpan.FromTicks(ttlTicks);

        var lru = async () => await Store.TryAcquireLeastRecentlyUsedAsync(pool, ttl);
        var named = async () => await Store.TryAcquirePoolMemberAsync(pool, members[0], ttl);

        await lru.Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        await named.Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        (await Store.InspectPoolAsync(pool)).Should().AllSatisfy(state => state.Should().Be(new LeaseState(state.Key, LeaseStatus.Free, null, null, 0)));
    }

    [Theory]
    [MemberData(nameof(InvalidTtlTicks), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task RenewAndCooldown_InvalidDuration_ThrowAndKeepTheLease(long ticks)
    {
        var lease = await AcquireAsync(Unique.Name(), LongTtl);

        var renew = async () => await Store.RenewAsync(lease, TimeSpan.FromTicks(ticks));
        var cooldown = async () => await Store.ReleaseWithCooldownAsync(lease, TimeSpan.FromTicks(ticks));

        await renew.Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        await cooldown.Should().ThrowAsync<ArgumentException>().WithParameterName("cooldown");
        var state = await InspectOneAsync(lease.Key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.ExpiresAt.Should().BeCloseTo(lease.ExpiresAt, TimeTolerance);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();
    }

    [Fact]
    public async Task LeaseCalls_NullOrMalformedLease_ThrowAndKeepTheLease()
    {
        var lease = await AcquireAsync(Unique.Name(), LongTtl);
        Lease[] malformed = [lease with { Key = " " }, lease with { Pool = string.Empty }, lease with { Token = string.Empty }];

        foreach (var bad in malformed.Append(null))
        {
            var renew = async () => await Store.RenewAsync(bad!, Ttl);
            var release = async () => await Store.ReleaseAsync(bad!);
            var cooldown = async () => await Store.ReleaseWithCooldownAsync(bad!, Ttl);

            await renew.Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
            await release.Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
            await cooldown.Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
        }

        (await InspectOneAsync(lease.Key)).ExpiresAt.Should().BeCloseTo(lease.ExpiresAt, TimeTolerance);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();
    }

    [Fact]
    public async Task Limits_KeyOf512Utf8BytesAndTtlOfOneDay_AreAccepted()
    {
        var key = PadToUtf8Bytes(Unique.Name(), LeaseArguments.MaxKeyBytes);
        var pool = PadToUtf8Bytes(Unique.Name("pool"), LeaseArguments.MaxKeyBytes);
        var member = PadToUtf8Bytes("member", LeaseArguments.MaxKeyBytes);

        var single = await AcquireAsync(key, TimeSpan.FromDays(1));
        await Store.SetPoolMembersAsync(pool, [member]);
        var pooled = await AcquireLruAsync(pool, TimeSpan.FromDays(1));

        single.Key.Should().Be(key);
        pooled.Key.Should().Be(member);
        pooled.Pool.Should().Be(pool);
        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Held);
        (await Store.GetPoolMembersAsync(pool)).Should().Equal(member);
        (await Store.ReleaseAsync(single)).Should().BeTrue();
        (await Store.ReleaseAsync(pooled)).Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(InvalidMemberLists), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task SetPoolMembersAsync_InvalidMembers_ThrowsAndWritesNothing(string listName)
    {
        var pool = Unique.Name("pool");
        var fresh = Unique.Name("fresh");
        await Store.SetPoolMembersAsync(pool, ["x"], version: 1);
        var bad = InvalidMemberList(listName);

        var onExisting = async () => await Store.SetPoolMembersAsync(pool, bad, version: 5);
        var onFresh = async () => await Store.SetPoolMembersAsync(fresh, bad);

        await onExisting.Should().ThrowAsync<ArgumentException>().WithParameterName("members");
        await onFresh.Should().ThrowAsync<ArgumentException>().WithParameterName("members");
        (await Store.GetPoolMembersAsync(pool)).Should().Equal("x");
        (await Store.GetPoolMembersAsync(fresh)).Should().BeEmpty();
        (await Store.InspectPoolAsync(fresh)).Should().BeEmpty();
        await Store.SetPoolMembersAsync(pool, ["y"], version: 2);
        (await Store.GetPoolMembersAsync(pool)).Should().Equal(["y"], "the rejected call did not store its version 5 either");
    }

    [Fact]
    public async Task SetPoolMembersAsync_NullMembers_ThrowsArgumentException()
    {
        var act = async () => await Store.SetPoolMembersAsync(Unique.Name("pool"), null!);

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("members");
    }

    [Theory]
    [MemberData(nameof(InvalidKeys), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task PoolCalls_InvalidPoolName_ThrowArgumentException(string? invalidPool)
    {
        var pool = invalidPool;
        Func<Task>[] calls =
        [
            async () => await Store.SetPoolMembersAsync(pool!, ["a"]),
            async () => await Store.GetPoolMembersAsync(pool!),
            async () => await Store.TryAcquireLeastRecentlyUsedAsync(pool!, Ttl),
            async () => await Store.TryAcquirePoolMemberAsync(pool!, "a", Ttl),
            async () => await Store.InspectPoolAsync(pool!),
        ];

        foreach (var call in calls)
        {
            await call.Should().ThrowAsync<ArgumentException>().WithParameterName("pool");
        }

        if (pool is not null)
        {
            var force = async () => await Store.ForceReleaseAsync("a", pool);
            await force.Should().ThrowAsync<ArgumentException>().WithParameterName("pool");
        }
    }

    [Theory]
    [MemberData(nameof(InvalidKeys), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task TryAcquirePoolMemberAsync_InvalidMember_ThrowsAndWritesNothing(string? invalidMember)
    {
        var (pool, _) = await CreatePoolAsync(2);

        var act = async () => await Store.TryAcquirePoolMemberAsync(pool, invalidMember!, Ttl);

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("member");
        (await Store.InspectPoolAsync(pool)).Should().AllSatisfy(state => state.Status.Should().Be(LeaseStatus.Free));
    }

    private static IReadOnlyCollection<string> InvalidMemberList(string name) => name switch
    {
        "empty" => [],
        "duplicate" => ["a", "b", "a"],
        "empty-member" => ["a", string.Empty],
        "whitespace-member" => ["a", "  "],
        "null-member" => ["a", null!],
        "too-long-member" => ["a", string.Concat(Enumerable.Repeat("€", 171))],
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown list."),
    };

    // Multi-byte characters make the byte count, not the char count, hit the limit.
    private static string PadToUtf8Bytes(string prefix, int bytes)
    {
        var text = new StringBuilder(prefix);
        while (Encoding.UTF8.GetByteCount(text.ToString()) + 3 <= bytes)
        {
            text.Append('€');
        }

        while (Encoding.UTF8.GetByteCount(text.ToString()) < bytes)
        {
            text.Append('a');
        }

        return text.ToString();
    }
}

// Key text no backend can store as given: NUL (PostgreSQL text refuses it) and lone surrogates
// (UTF-8 maps each to U+FFFD, so two .NET keys would share one backend key). By name, so the test
// runner never has to serialise the broken strings.
public abstract partial class LeaseStoreConformanceTests
{
    /// <summary>The unstorable key texts by name.</summary>
    public static string UnstorableKey(string name) => name switch
    {
        "nul" => "a\0b",
        "lone-high" => "key-\uD800",
        "lone-low" => "\uDC00-key",
        "reversed-pair" => "x\uDC00\uD800y",
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [InlineData("nul")]
    [InlineData("lone-high")]
    [InlineData("lone-low")]
    [InlineData("reversed-pair")]
    public async Task EveryCall_UnstorableKeyText_ThrowsArgumentExceptionBeforeIoAndWritesNothing(string name)
    {
        var bad = UnstorableKey(name);
        var pool = Unique.Name();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await ShouldRejectKeyAsync(() => Store.TryAcquireAsync(bad, Ttl, cancelled.Token).AsTask(), "key");
        await ShouldRejectKeyAsync(() => Store.InspectAsync([bad], cancelled.Token).AsTask(), "keys");
        await ShouldRejectKeyAsync(() => Store.SetPoolMembersAsync(pool, ["ok", bad], 0, cancelled.Token).AsTask(), "members");
        await ShouldRejectKeyAsync(() => Store.SetPoolMembersAsync(bad, ["ok"], 0, cancelled.Token).AsTask(), "pool");
        await ShouldRejectKeyAsync(() => Store.TryAcquirePoolMemberAsync(pool, bad, Ttl, cancelled.Token).AsTask(), "member");
        await ShouldRejectKeyAsync(() => Store.TryAcquireLeastRecentlyUsedAsync(bad, Ttl, cancelled.Token).AsTask(), "pool");
        await ShouldRejectKeyAsync(() => Store.ForceReleaseAsync(bad, null, cancelled.Token).AsTask(), "key");

        (await Store.GetPoolMembersAsync(pool)).Should().BeEmpty("nothing was written");
    }

    private static async Task ShouldRejectKeyAsync(Func<Task> call, string parameter)
    {
        var thrown = await call.Should().ThrowAsync<ArgumentException>();
        thrown.Which.ParamName.Should().NotBeNull();
        if (parameter != "keys")
        {
            thrown.Which.ParamName.Should().Be(parameter);
        }
    }
}
