using Leasing.Testing;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>PostgreSQL with the class's table prefix; time is the server's clock, so it passes for real.</summary>
public sealed class PostgresLeaseBackend(PostgresTables tables, TimeSpan? ttl = null) : LeaseBackend
{
    public override string Name => "postgres";

    public override TimeProvider TimeProvider => TimeProvider.System;

    public override bool IsTimeVirtual => false;

    public override TimeSpan Ttl => ttl ?? SqlTestTimes.Ttl;

    public override ILeaseStore CreateStore() => new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);

    public override async ValueTask PassAsync(TimeSpan duration) => await Task.Delay(duration);
}
