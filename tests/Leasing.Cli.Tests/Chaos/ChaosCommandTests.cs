using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Leasing.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Leasing.Cli.Tests.Chaos;

/// <summary>
/// <c>leasing chaos</c> end to end, one run per backend: the JSON has its documented shape, every
/// fault kind the backend allows was injected, and the library kept every promise (no violation).
/// The runs last <c>LEASING_CHAOS_SECONDS</c> (default 20; CI sets 60) except the one on the given
/// Redis server, which is short: it covers the path without a private server.
/// </summary>
/// <remarks>One class, so xunit runs them one after another: each starts several processes.</remarks>
public sealed class ChaosCommandTests(ITestOutputHelper output)
{
    private static readonly int Seconds = int.TryParse(Environment.GetEnvironmentVariable("LEASING_CHAOS_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 20;

    [Fact]
    public async Task Chaos_Sqlite_InjectsKillPauseAndCancel_NoViolation() =>
        await RunAsync(["--sqlite"], Seconds, ["kill", "pause", "cancel"]);

    [Fact]
    public async Task Chaos_PrivateRedis_InjectsEveryFaultKind_NoViolation() =>
        await RunAsync(["--redis"], Seconds, ["kill", "pause", "cancel", "stall", "drop", "delay", "restart"]);

    [Fact]
    public async Task Chaos_GivenRedis_InjectsEveryFaultButRestart_NoViolation() =>
        await RunAsync(["--redis", await RedisTestServer.GetConnectionStringAsync()], 20, ["kill", "pause", "cancel", "stall", "drop", "delay"]);

    [Fact]
    public async Task Chaos_PrivatePostgres_InjectsEveryFaultKind_NoViolation() =>
        await RunAsync(["--postgres"], Seconds, ["kill", "pause", "cancel", "stall", "drop", "delay", "restart"]);

    [Fact]
    public async Task Chaos_NoBackend_ExitsTwoAskingForOne()
    {
        var result = await Cli.RunAsync("chaos", "--seconds", "5");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("--redis [CONN], --postgres [CONN] or --sqlite [PATH]");
    }

    [Fact]
    public async Task Chaos_TwoBackends_ExitsTwo()
    {
        var result = await Cli.RunAsync("chaos", "--sqlite", "--redis");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("cannot be combined");
    }

    private async Task RunAsync(string[] backend, int seconds, string[] kinds)
    {
        var json = Path.Combine(Path.GetTempPath(), $"leasing-chaos-{Guid.NewGuid():N}.json");
        try
        {
            var result = await Cli.RunAsync(["chaos", .. backend, "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--json", json]);
            output.WriteLine(result.ToString());

            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var root = document.RootElement;
            root.GetProperty("acquisitions").GetInt32().Should().BeGreaterThan(0, "the workers got channels and locks");
            var faults = root.GetProperty("faults");
            faults.EnumerateObject().Select(f => f.Name).Should().BeEquivalentTo(kinds, "the faults object lists every kind this backend allows");
            foreach (var kind in kinds)
            {
                faults.GetProperty(kind).GetInt32().Should().BeGreaterThan(0, $"a {seconds} s run injects every kind ({kind} too)");
            }

            var payments = root.GetProperty("payments");
            payments.GetProperty("keys").GetInt32().Should().BeGreaterThan(0);
            payments.GetProperty("executions").GetInt32().Should().BeGreaterThan(0);
            root.GetProperty("violations").GetInt32().Should().Be(0, $"the library keeps its promises under faults:\n{string.Join("\n", root.GetProperty("details").EnumerateArray().Select(d => d.GetString()))}");
            result.ExitCode.Should().Be(0);
            result.Out.Should().EndWith($"violations: 0{Environment.NewLine}");
        }
        finally
        {
            File.Delete(json);
        }
    }
}
