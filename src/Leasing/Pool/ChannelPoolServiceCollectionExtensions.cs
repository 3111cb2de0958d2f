using Leasing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers channel pools.</summary>
public static class ChannelPoolServiceCollectionExtensions
{
    /// <summary>
    /// Registers a keyed <see cref="ChannelPool"/> named <paramref name="name"/>
    /// (resolve it with <c>[FromKeyedServices("name")] ChannelPool</c>) over the registered
    /// <see cref="ILeaseStore"/>. Options are named options, validated at start
    /// (<c>ValidateOnStart</c>; the host runs it in <c>StartAsync</c>) with messages that name the option and
    /// the rule; the start fails as well when no <see cref="ILeaseStore"/> is registered (a backend such as
    /// <c>AddInMemoryLeasing()</c> adds one). A change of the channel list through IOptionsMonitor is written
    /// before the next acquire. The pool is disposed with the container.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The pool name (also the DI key and the options name).</param>
    /// <param name="configure">Sets the channels and other options; <see cref="ChannelPoolOptions.Name"/> defaults to <paramref name="name"/>.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentException">
    /// The name is not a valid key, or a pool of that name is already registered (further options of an
    /// existing pool go through <c>services.Configure&lt;ChannelPoolOptions&gt;(name, ...)</c>).
    /// </exception>
    public static IServiceCollection AddChannelPool(this IServiceCollection services, string name, Action<ChannelPoolOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        LeaseArguments.ThrowIfInvalidKey(name, nameof(name));
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(ChannelPool) && Equals(d.ServiceKey, name)))
        {
            // Two registrations would merge their options into one pool and hide the second channel list.
            throw new ArgumentException(
                $"A channel pool named '{name}' is already registered; each AddChannelPool call needs its own name. " +
                $"To add options to that pool use services.Configure<ChannelPoolOptions>(\"{name}\", ...).",
                nameof(name));
        }

        services.AddOptions<ChannelPoolOptions>(name)
            .Configure(options =>
            {
                options.Name = name;
                configure(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChannelPoolOptions>, ChannelPoolOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChannelPoolOptions>, BackendRequiredValidator<ChannelPoolOptions, ILeaseStore>>());
        services.AddKeyedSingleton(name, (provider, _) =>
        {
            var monitor = provider.GetRequiredService<IOptionsMonitor<ChannelPoolOptions>>();
            var pool = new ChannelPool(
                provider.GetRequiredService<ILeaseStore>(),
                monitor.Get(name),
                provider.GetService<TimeProvider>(),
                provider.GetService<ILogger<ChannelPool>>());
            pool.WatchOptions(monitor.OnChange((options, changed) =>
            {
                if (changed == name && ChannelPoolOptionsValidator.Check(options).Count == 0)
                {
                    pool.UpdateMembers(options.Channels, options.MembersVersion);
                }
            }));
            return pool;
        });
        return services;
    }
}
