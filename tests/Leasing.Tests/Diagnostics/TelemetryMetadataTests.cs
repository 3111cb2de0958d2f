using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using FluentAssertions;
using Xunit;

namespace Leasing.Tests.Diagnostics;

/// <summary>What an OpenTelemetry SDK reads from the <c>Leasing</c> meter and activity source besides measurements.</summary>
public sealed class TelemetryMetadataTests
{
    private static readonly double[] ExpectedBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    [Theory]
    [InlineData("leasing.pool.acquire_wait")]
    [InlineData("leasing.lease.hold_time")]
    public void DurationHistogram_PublishedToAListener_AdvisesBucketsFromOneMillisecondToThirtySecondsInSeconds(string name)
    {
        var instrument = Published(name);

        instrument.Unit.Should().Be("s");
        var histogram = instrument.Should().BeOfType<Histogram<double>>().Subject;
        histogram.Advice.Should().NotBeNull();
        histogram.Advice!.HistogramBucketBoundaries.Should().Equal(ExpectedBuckets);
    }

    [Fact]
    public void MeterAndActivitySource_CarryTheAssemblyVersionWithoutBuildMetadata()
    {
        var informational = typeof(ChannelPool).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var expected = informational.Split('+')[0];
        ActivitySource? seen = null;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source =>
            {
                if (source.Name == LeasingTelemetry.Name)
                {
                    seen = source;
                }

                return false;
            },
        };
        ActivitySource.AddActivityListener(listener);

        expected.Should().NotBeNullOrWhiteSpace();
        LeasingTelemetry.Version.Should().Be(expected);
        Published("leasing.pool.acquisitions").Meter.Version.Should().Be(expected);
        seen.Should().NotBeNull("the library's ActivitySource exists once the library is used");
        seen!.Version.Should().Be(expected);
    }

    /// <summary>The instrument of the Leasing meter named <paramref name="name"/>, as a MeterListener sees it.</summary>
    private static Instrument Published(string name)
    {
        _ = LeasingTelemetry.Meter; // the static instruments exist once the type is initialised
        Instrument? found = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == LeasingTelemetry.Name && instrument.Name == name)
                {
                    found = instrument;
                }
            },
        };
        listener.Start();
        found.Should().NotBeNull($"the Leasing meter publishes {name}");
        return found!;
    }
}
