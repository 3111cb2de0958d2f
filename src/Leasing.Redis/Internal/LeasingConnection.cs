using StackExchange.Redis;

namespace Leasing.Redis;

/// <summary>The connection the Redis stores registered in DI use; disposed with the container only when the registration opened it.</summary>
internal sealed class LeasingConnection(IConnectionMultiplexer redis, bool owned) : IAsyncDisposable
{
    public IConnectionMultiplexer Redis { get; } = redis;

    public async ValueTask DisposeAsync()
    {
        if (owned)
        {
            await Redis.DisposeAsync().ConfigureAwait(false);
        }
    }
}
