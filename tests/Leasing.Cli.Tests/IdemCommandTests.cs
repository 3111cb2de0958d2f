using System.Text.Json;
using FluentAssertions;
using Leasing.Testing;
using Xunit;

namespace Leasing.Cli.Tests;

public sealed class IdemCommandTests : IAsyncLifetime
{
    private readonly string _key = Unique.Name("payment-");
    private SqliteFile _db = null!;

    public async Task InitializeAsync()
    {
        _db = await SqliteFile.CreateAsync();
        await using var executor = new IdempotentExecutor(_db.Idempotency);
        await executor.ExecuteAsync(_key, _ => Task.FromResult("receipt-42"), fingerprint: "amount=100");
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Show_Json_TheStoredRecordWithItsResult()
    {
        var result = await Cli.RunAsync("idem", "show", _key, "--sqlite", _db.Path, "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        var record = (await _db.Idempotency.GetAsync(_key))!;
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        root.GetProperty("key").GetString().Should().Be(_key);
        root.GetProperty("status").GetString().Should().Be("Succeeded");
        root.GetProperty("attempt").GetInt32().Should().Be(record.Attempt);
        root.GetProperty("fencingToken").GetInt64().Should().Be(record.FencingToken);
        root.GetProperty("fingerprint").GetString().Should().Be(record.Fingerprint);
        root.GetProperty("result").GetString().Should().Be("receipt-42", "the stored JSON result is shown as JSON (here a string), not escaped");
        root.GetProperty("resultText").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Show_ForPeople_APanelWithStatusAndResult()
    {
        var result = await Cli.RunAsync("idem", "show", _key, "--sqlite", _db.Path);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Contain(_key).And.Contain("Succeeded").And.Contain("receipt-42");
    }

    [Fact]
    public async Task Show_UnknownKey_ExitsOneSayingSo()
    {
        var result = await Cli.RunAsync("idem", "show", "no-such-key", "--sqlite", _db.Path, "--json");

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("no idempotency record for key 'no-such-key'");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Evict_WithYes_RemovesTheRecordSoTheNextCallRunsAgain()
    {
        var result = await Cli.RunAsync("idem", "evict", _key, "--sqlite", _db.Path, "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonDocument.Parse(result.Out).RootElement.GetProperty("evicted").GetBoolean().Should().BeTrue();
        (await _db.Idempotency.GetAsync(_key)).Should().BeNull();
        await using var executor = new IdempotentExecutor(_db.Idempotency);
        var again = await executor.ExecuteAsync(_key, _ => Task.FromResult("receipt-43"), fingerprint: "amount=100");
        again.Replayed.Should().BeFalse("the record was evicted");
    }

    [Fact]
    public async Task Evict_WithoutYesAndNoTerminal_RefusesAndKeepsTheRecord()
    {
        var result = await Cli.RunAsync(["idem", "evict", _key, "--sqlite", _db.Path], input: "y\n", terminal: false);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("refusing to evict an idempotency record without --yes");
        (await _db.Idempotency.GetAsync(_key)).Should().NotBeNull();
    }

    [Fact]
    public async Task Evict_AtATerminalAnsweringNo_KeepsTheRecord()
    {
        var result = await Cli.RunAsync(["idem", "evict", _key, "--sqlite", _db.Path], input: "no\n", terminal: true);

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain("cancelled; nothing changed");
        (await _db.Idempotency.GetAsync(_key)).Should().NotBeNull();
    }

    [Fact]
    public async Task Show_BadKey_ExitsTwoNamingTheRule()
    {
        var result = await Cli.RunAsync("idem", "show", "   ", "--sqlite", _db.Path);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("key");
    }
}
