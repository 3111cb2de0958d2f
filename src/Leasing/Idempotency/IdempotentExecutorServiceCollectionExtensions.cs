using Leasing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the idempotent executor.</summary>
public static class IdempotentExecutorServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="IdempotentExecutor"/> over the registered <see cref="IIdempotencyStore"/>
    /// (a backend registration such as <c>AddInMemoryLeasing()</c> adds it), using the registered
    /// <see cref="TimeProvider"/> if any. Options are validated at start (<c>ValidateOnStart</c>; the host runs it
    /// in <c>StartAsync</c>) with messages that name the option and the rule; the start fails as well when no
    /// <see cref="IIdempotencyStore"/> is registered. The executor is disposed with the container
    /// (running actions are told to stop and awaited).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddIdempotentExecutor(this IServiceCollection services, Action<IdempotencyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<IdempotencyOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdempotencyOptions>, IdempotencyOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdempotencyOptions>, BackendRequiredValidator<IdempotencyOptions, IIdempotencyStore>>());
        services.TryAddSingleton(static provider => new IdempotentExecutor(
            provider.GetRequiredService<IIdempotencyStore>(),
            provider.GetRequiredService<IOptions<IdempotencyOptions>>().Value,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILogger<IdempotentExecutor>>()));
        return services;
    }
}
