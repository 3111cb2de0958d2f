using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Leasing;

/// <summary>
/// Fails the options of a pool, lock or executor at start (<c>ValidateOnStart</c>) when the backend it needs
/// (<typeparamref name="TStore"/>) is not registered, instead of at its first resolution. It asks the container
/// whether the store is registered and never builds it, so the check does no I/O.
/// </summary>
/// <remarks>Containers without <see cref="IServiceProviderIsService"/> skip the check: resolution still fails then.</remarks>
internal sealed class BackendRequiredValidator<TOptions, TStore>(IServiceProvider provider) : IValidateOptions<TOptions>
    where TOptions : class
    where TStore : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var isService = provider.GetService<IServiceProviderIsService>();
        if (isService is null || isService.IsService(typeof(TStore)))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(Message(Component(name), typeof(TStore).Name));
    }

    /// <summary>The failure text: what needs the backend, what is missing, and the calls that register one.</summary>
    public static string Message(string component, string store) =>
        $"{component} needs an {store}, and none is registered. Register a backend before the host starts: " +
        "services.AddInMemoryLeasing() (Leasing.InMemory), AddRedisLeasing(...) (Leasing.Redis), " +
        "AddSqliteLeasing(...) (Leasing.Sql.Sqlite) or AddPostgresLeasing(...) (Leasing.Sql.PostgreSql).";

    private static string Component(string? name) => typeof(TOptions) switch
    {
        var t when t == typeof(ChannelPoolOptions) => $"ChannelPool '{name}' (AddChannelPool)",
        var t when t == typeof(DistributedLockOptions) => "DistributedLock (AddDistributedLock)",
        var t when t == typeof(IdempotencyOptions) => "IdempotentExecutor (AddIdempotentExecutor)",
        var t => t.Name,
    };
}
