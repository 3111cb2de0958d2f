using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>The idempotency store conformance suite, unchanged, on a real Redis server.</summary>
public sealed class RedisIdempotencyStoreConformanceTests : IdempotencyStoreConformanceTests
{
    protected override async ValueTask<IdempotencyBackend> CreateBackendAsync() => await RedisIdempotencyBackend.CreateAsync();
}
