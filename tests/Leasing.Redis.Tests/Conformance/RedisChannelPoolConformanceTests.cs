using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>The ChannelPool conformance suite, unchanged, on a real Redis server.</summary>
public sealed class RedisChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateAsync();
}
