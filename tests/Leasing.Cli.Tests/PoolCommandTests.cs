using System.Text.Json;
using FluentAssertions;
using Leasing.Testing;
using Xunit;

namespace Leasing.Cli.Tests;

public sealed class PoolCommandTests : IAsyncLifetime
{
    private readonly string _pool = Unique.Name("pool-");
    private SqliteFile _db = null!;
    private Lease _held = null!;

    public async Task InitializeAsync()
    {
        _db = await SqliteFile.CreateAsync();
        await _db.Leases.SetPoolMembersAsync(_pool, ["ch-1", "ch-2", "ch-3"]);
        _held = (await _db.Leases.TryAcquirePoolMemberAsync(_pool, "ch-2", TimeSpan.FromMinutes(5)))!;
        var cooling = (await _db.Leases.TryAcquirePoolMemberAsync(_pool, "ch-3", TimeSpan.FromMinutes(5)))!;
        await _db.Leases.ReleaseWithCooldownAsync(cooling, TimeSpan.FromMinutes(5));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Status_Json_ListsEveryChannelWithItsStateAndCounts()
    {
        var result = await Cli.RunAsync("pool", "status", _pool, "--sqlite", _db.Path, "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        root.GetProperty("pool").GetString().Should().Be(_pool);
        root.GetProperty("held").GetInt32().Should().Be(1);
        root.GetProperty("coolingDown").GetInt32().Should().Be(1);
        root.GetProperty("free").GetInt32().Should().Be(1);
        var members = root.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("channel").GetString()!, m => m);
        members["ch-2"].GetProperty("status").GetString().Should().Be("Held");
        members["ch-2"].GetProperty("fencingToken").GetInt64().Should().Be(_held.FencingToken);
        members["ch-3"].GetProperty("status").GetString().Should().Be("CoolingDown");
        members["ch-1"].GetProperty("status").GetString().Should().Be("Free");
    }

    [Fact]
    public async Task Status_ForPeople_ATableWithEveryChannelAndACaption()
    {
        var result = await Cli.RunAsync("pool", "status", _pool, "--sqlite", _db.Path);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Contain("ch-1").And.Contain("ch-2").And.Contain("ch-3");
        result.Out.Should().Contain("held").And.Contain("cooling").And.Contain("free");
        result.Out.Should().Contain("3 channels: 1 held, 1 cooling down, 1 free");
        result.Out.Should().Contain(_held.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Status_UnknownPool_ExitsOneSayingSo()
    {
        var result = await Cli.RunAsync("pool", "status", "no-such-pool", "--sqlite", _db.Path);

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("pool 'no-such-pool' has no channels");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Status_UnknownPool_ShowsThePrefixItLookedUnderAndHintsAtPrefix()
    {
        var result = await Cli.RunAsync("pool", "status", "no-such-pool", "--sqlite", _db.Path);

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("under table prefix 'leasing_'").And.Contain("needs --prefix");
    }

    [Fact]
    public async Task Status_At80Columns_EveryRowFitsAndStaysOnOneLine()
    {
        var pool = Unique.Name("wide-");
        string[] channels = ["relayer-account-00001", "relayer-account-00002", "relayer-account-00003"];
        await _db.Leases.SetPoolMembersAsync(pool, channels);
        var held = (await _db.Leases.TryAcquirePoolMemberAsync(pool, channels[0], TimeSpan.FromMinutes(5)))!;
        var cooling = (await _db.Leases.TryAcquirePoolMemberAsync(pool, channels[1], TimeSpan.FromMinutes(5)))!;
        await _db.Leases.ReleaseWithCooldownAsync(cooling, TimeSpan.FromMinutes(5));

        var result = await Cli.RunAsync(["pool", "status", pool, "--sqlite", _db.Path], input: null, terminal: false, width: 80);

        result.ExitCode.Should().Be(0, result.ToString());
        var lines = result.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        lines.Should().OnlyContain(l => l.Length <= 80, result.Out);
        lines.Where(l => l.Contains(channels[0], StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("held").And.Contain(held.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
        lines.Where(l => l.Contains(channels[1], StringComparison.Ordinal)).Should().ContainSingle().Which.Should().Contain("cooling");
        lines.Where(l => l.Contains(channels[2], StringComparison.Ordinal)).Should().ContainSingle().Which.Should().Contain("free");
    }

    [Fact]
    public async Task Status_Piped_ARowWiderThan80ColumnsIsNotWrapped()
    {
        var pool = Unique.Name("piped-");
        var channel = "relayer-" + new string('x', 70);
        await _db.Leases.SetPoolMembersAsync(pool, [channel]);
        var held = (await _db.Leases.TryAcquirePoolMemberAsync(pool, channel, TimeSpan.FromMinutes(5)))!;

        var result = await Cli.RunProcessAsync("pool", "status", pool, "--sqlite", _db.Path);

        result.ExitCode.Should().Be(0, result.ToString());
        var row = result.Out.Split('\n').Should().ContainSingle(l => l.Contains(channel, StringComparison.Ordinal), result.Out).Which;
        row.Should().Contain("held").And.Contain(held.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture));
        row.TrimEnd().Length.Should().BeGreaterThan(80);
    }

    [Fact]
    public async Task Release_ChannelNotAMember_ExitsOneAndChangesNothing()
    {
        var result = await Cli.RunAsync("pool", "release", _pool, "ch-9", "--sqlite", _db.Path, "--yes");

        result.ExitCode.Should().Be(1, result.ToString());
        result.Error.Should().Contain("channel 'ch-9' is not a member of pool").And.Contain("ch-1, ch-2, ch-3");
        result.Out.Should().BeEmpty();
        var states = await _db.Leases.InspectPoolAsync(_pool);
        states.Single(s => s.Key == "ch-2").Status.Should().Be(LeaseStatus.Held);
        states.Single(s => s.Key == "ch-2").FencingToken.Should().Be(_held.FencingToken);
    }

    [Fact]
    public async Task Release_UnknownPool_ExitsOneShowingThePrefix()
    {
        var result = await Cli.RunAsync("pool", "release", "no-such-pool", "ch-1", "--sqlite", _db.Path, "--yes");

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("pool 'no-such-pool' has no members").And.Contain("table prefix 'leasing_'").And.Contain("--prefix");
    }

    [Fact]
    public async Task Members_PlainAndJson_ListTheIds()
    {
        var plain = await Cli.RunAsync("pool", "members", _pool, "--sqlite", _db.Path);
        var json = await Cli.RunAsync("pool", "members", _pool, "--sqlite", _db.Path, "--json");

        plain.ExitCode.Should().Be(0, plain.ToString());
        plain.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("ch-1", "ch-2", "ch-3");
        JsonDocument.Parse(json.Out).RootElement.GetProperty("members").EnumerateArray().Select(e => e.GetString()).Should().Equal("ch-1", "ch-2", "ch-3");
    }

    [Fact]
    public async Task Release_WithYes_FreesTheChannelAndTheOldHolderCannotRenew()
    {
        var result = await Cli.RunAsync("pool", "release", _pool, "ch-2", "--sqlite", _db.Path, "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonDocument.Parse(result.Out).RootElement.GetProperty("released").GetBoolean().Should().BeTrue();
        (await _db.Leases.InspectPoolAsync(_pool)).Single(s => s.Key == "ch-2").Status.Should().Be(LeaseStatus.Free);
        (await _db.Leases.RenewAsync(_held, TimeSpan.FromMinutes(1))).Should().BeNull("the old holder lost the lease");
    }

    [Fact]
    public async Task Release_NotHeld_SaysNothingChanged()
    {
        var result = await Cli.RunAsync("pool", "release", _pool, "ch-1", "--sqlite", _db.Path, "--yes");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Contain("was not held; nothing changed");
    }

    [Fact]
    public async Task Release_WithoutYesAndNoTerminal_RefusesAndChangesNothing()
    {
        var result = await Cli.RunAsync(["pool", "release", _pool, "ch-2", "--sqlite", _db.Path], input: "y\n", terminal: false);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("refusing to force-release a channel without --yes");
        (await _db.Leases.InspectPoolAsync(_pool)).Single(s => s.Key == "ch-2").Status.Should().Be(LeaseStatus.Held);
    }

    [Fact]
    public async Task Release_WithoutYesAsAProcessWithRedirectedInput_RefusesAndChangesNothing()
    {
        var result = await Cli.RunProcessAsync("pool", "release", _pool, "ch-2", "--sqlite", _db.Path);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("standard input is not a terminal");
        (await _db.Leases.InspectPoolAsync(_pool)).Single(s => s.Key == "ch-2").Status.Should().Be(LeaseStatus.Held);
    }

    [Theory]
    [InlineData("y\n", 0, LeaseStatus.Free)]
    [InlineData("n\n", 1, LeaseStatus.Held)]
    [InlineData("", 1, LeaseStatus.Held)]
    public async Task Release_AtATerminal_AsksAndFollowsTheAnswer(string answer, int exitCode, LeaseStatus after)
    {
        var result = await Cli.RunAsync(["pool", "release", _pool, "ch-2", "--sqlite", _db.Path], input: answer, terminal: true);

        result.ExitCode.Should().Be(exitCode, result.ToString());
        result.Error.Should().Contain($"Force-release channel 'ch-2' of pool '{_pool}'");
        (await _db.Leases.InspectPoolAsync(_pool)).Single(s => s.Key == "ch-2").Status.Should().Be(after);
    }

    [Fact]
    public async Task Status_MissingSqliteFile_ExitsOneWithoutCreatingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"leasing-missing-{Guid.NewGuid():N}.db");

        var result = await Cli.RunAsync("pool", "status", _pool, "--sqlite", missing);

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("No SQLite database at");
        File.Exists(missing).Should().BeFalse();
    }

    [Theory]
    [InlineData("pool", "status", "p")]
    [InlineData("pool", "release", "p")]
    [InlineData("pool", "status", "p", "--sqlite", "a.db", "--postgres", "Host=x")]
    public async Task BadArguments_ExitTwoWithAMessage(params string[] args)
    {
        var result = await Cli.RunAsync(args);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().StartWith("leasing: ");
        result.Out.Should().BeEmpty();
    }
}
