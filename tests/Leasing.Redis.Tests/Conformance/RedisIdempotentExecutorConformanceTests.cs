using Leasing.Testing;

namespace Leasing.Redis.Tests.Conformance;

/// <summary>The idempotent executor conformance suite, unchanged, on a real Redis server.</summary>
public sealed class RedisIdempotentExecutorConformanceTests : IdempotentExecutorConformanceTests
{
    protected override async ValueTask<IdempotencyBackend> CreateBackendAsync() => await RedisIdempotencyBackend.CreateAsync();
}
