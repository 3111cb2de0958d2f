using FluentAssertions;
using Xunit;

namespace Leasing.Cli.Tests;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_ShortRun_ExitsZeroWithNoViolationsAndTheKilledChannelBackAfterItsLease()
    {
        var result = await Cli.RunProcessAsync("demo", "--workers", "4", "--channels", "2", "--seconds", "2");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Contain("on sqlite (", "the embedded default is a SQLite file");
        result.Out.Should().Contain("violations: 0");
        result.Out.Should().MatchRegex(@"pairs:\s+[1-9][\d,]* acquire\+release", "the workers got channels");
        result.Out.Should().MatchRegex(@"killed worker:\s+held ch-0\d \(fencing \d+\), died without releasing; channel back (0\.[4-9]|[1-9])\d*\.?\d* s after it was taken \(lease 0\.5 s\)", "the killed worker's channel came back after its lease");
        result.Out.Should().MatchRegex(@"payment:\s+4 senders at once, 1 execution, 3 replays", "the payment ran once and the other senders replayed it");
        result.Out.Should().Contain("ch-01").And.Contain("ch-02");
        result.Out.Should().MatchRegex(@"sequence:\s+[1-9][\d,]* sequence numbers used", "every use stored its channel's next sequence number");
        result.Out.Should().MatchRegex(@"stale state writes refused: [1-9]\d* \([1-9]\d* by workers paused past their lease\)", "the paused workers' stale writes were refused");
        result.Error.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--workers", "0")]
    [InlineData("--channels", "-1")]
    [InlineData("--seconds", "1")]
    [InlineData("--workers", "many")]
    public async Task Demo_BadNumber_ExitsTwoWithTheOptionNamedOnStderr(string option, string value)
    {
        var result = await Cli.RunAsync("demo", option, value);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain(option);
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Demo_TwoBackends_ExitsTwoSayingTheyCannotBeCombined()
    {
        var result = await Cli.RunAsync("demo", "--sqlite", "a.db", "--redis", "127.0.0.1:1");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--sqlite, --redis cannot be combined");
    }

    [Fact]
    public async Task UnknownCommand_AsAProcess_ExitsTwoWithAMessageOnStderrAndNothingOnStdout()
    {
        var result = await Cli.RunProcessAsync("lease-everything");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Unrecognized command or argument 'lease-everything'");
        result.Out.Should().BeEmpty();
    }
}
