using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>
/// The ChannelPool conformance suite, unchanged, on a real Redis server. Leases of 2 s: its
/// heartbeat tests need renewals every Ttl/3 to land within the local deadline (0.9 Ttl) even
/// when the machine stalls the process for half a second.
/// </summary>
public sealed class RedisChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override async ValueTask<LeaseBackend> CreateBackendAsync() => await RedisLeaseBackend.CreateAsync(TimeSpan.FromSeconds(2));
}
