using Leasing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the distributed lock.</summary>
public static class DistributedLockServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="DistributedLock"/> (this process's replica) over the registered
    /// <see cref="ILeaseStore"/>, using the registered <see cref="TimeProvider"/> if any. Options are
    /// validated at start (<c>ValidateOnStart</c>; the host runs it in <c>StartAsync</c>) with messages that name
    /// the option and the rule; the start fails as well when no <see cref="ILeaseStore"/> is registered (a backend
    /// such as <c>AddInMemoryLeasing()</c> adds one).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddDistributedLock(this IServiceCollection services, Action<DistributedLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<DistributedLockOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DistributedLockOptions>, DistributedLockOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DistributedLockOptions>, BackendRequiredValidator<DistributedLockOptions, ILeaseStore>>());
        services.TryAddSingleton(static provider => new DistributedLock(
            provider.GetRequiredService<ILeaseStore>(),
            provider.GetRequiredService<IOptions<DistributedLockOptions>>().Value,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILogger<DistributedLock>>()));
        return services;
    }
}
