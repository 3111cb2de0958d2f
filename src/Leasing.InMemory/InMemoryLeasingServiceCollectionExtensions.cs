using Leasing;
using Leasing.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the in-memory (process-local) leasing backend.</summary>
public static class InMemoryLeasingServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="InMemoryLeaseStore"/> as the singleton <see cref="ILeaseStore"/>,
    /// unless an <see cref="ILeaseStore"/> is already registered, and one
    /// <see cref="InMemoryIdempotencyStore"/> as the singleton <see cref="IIdempotencyStore"/>,
    /// unless one is already registered. Both use the registered
    /// <see cref="TimeProvider"/>, or <see cref="TimeProvider.System"/> when there is none.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddInMemoryLeasing(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(static provider => new InMemoryLeaseStore(provider.GetService<TimeProvider>()));
        services.TryAddSingleton<ILeaseStore>(static provider => provider.GetRequiredService<InMemoryLeaseStore>());

        services.TryAddSingleton(static provider => new InMemoryIdempotencyStore(provider.GetService<TimeProvider>()));
        services.TryAddSingleton<IIdempotencyStore>(static provider => provider.GetRequiredService<InMemoryIdempotencyStore>());
        return services;
    }
}
