using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Leasing.Sql;

/// <summary>
/// Fails the host start when <c>AddPostgresLeasing()</c> (no connection string) finds no <see cref="NpgsqlDataSource"/>
/// in the container, instead of the first lease failing on it. Asks the container; builds nothing.
/// </summary>
internal sealed class NpgsqlDataSourceRequiredValidator(IServiceProvider provider) : IValidateOptions<SqlLeasingOptions>
{
    public ValidateOptionsResult Validate(string? name, SqlLeasingOptions options)
    {
        var isService = provider.GetService<IServiceProviderIsService>();
        if (isService is null || isService.IsService(typeof(NpgsqlDataSource)))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(
            "AddPostgresLeasing() without a connection string uses the NpgsqlDataSource registered in the container, and none is registered. " +
            "Register one with services.AddNpgsqlDataSource(connectionString) (package Npgsql.DependencyInjection), " +
            "or pass AddPostgresLeasing a connection string or a data source factory.");
    }
}
