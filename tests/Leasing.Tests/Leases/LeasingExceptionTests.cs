using FluentAssertions;
using Xunit;

namespace Leasing.Tests.Leases;

public sealed class LeasingExceptionTests
{
    [Fact]
    public void EveryPublicExceptionOfTheLibrary_DerivesFromLeasingException()
    {
        var exceptions = typeof(ILeaseStore).Assembly.GetExportedTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t) && t != typeof(LeasingException))
            .ToList();

        exceptions.Should().HaveCount(7, "the library's own exceptions: store unavailable, pool exhausted, members outdated and the executor's four");
        exceptions.Should().AllSatisfy(t => t.Should().BeDerivedFrom<LeasingException>());
    }
}
