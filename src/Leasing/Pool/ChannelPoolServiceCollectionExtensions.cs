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
    /// (<c>ValidateOnStart</c>) with messages that name the option and the rule; a change of the
    /// channel list through IOptionsMonitor is written before the next acquire. The pool is
    /// disposed with the container.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The pool name (also the DI key and the options name).</param>
    /// <param name="configure">Sets the channels and other options; <see cref="ChannelPoolOptions.Name"/> defaults to <paramref name="name"/>.</param>
    /// <returns>The services, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is not a valid key.</exception>
    public static IServiceCollection AddChannelPool(this IServiceCollection services, string name, Action<ChannelPoolOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        LeaseArguments.ThrowIfInvalidKey(name, nameof(name));
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<ChannelPoolOptions>(name)
            .Configure(options =>
            {
                options.Name = name;
                configure(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChannelPoolOptions>, ChannelPoolOptionsValidator>());
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
