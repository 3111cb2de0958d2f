#!/usr/bin/env bash
# Packs the libraries and builds and runs a scratch console app against the packed .nupkg files only
# (no project references), from the code a consumer reads in the package READMEs: a channel pool with
# fenced state and an idempotent call on the in-memory backend, and the same on a SQLite file.
# Prints "package smoke: ok" and exits 0, or says what failed and exits 1.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/leasing-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
version="0.0.0-smoke.$(date +%s)"

for project in Leasing Leasing.InMemory Leasing.Sql Leasing.Sql.Sqlite; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$feed" -p:Version="$version" -p:ContinuousIntegrationBuild=true --nologo -v q >/dev/null
done

app="$work/app"
mkdir -p "$app"
cat > "$work/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="smoke" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="smoke"><package pattern="Leasing*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
CONFIG
cat > "$app/Smoke.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Leasing" Version="$version" />
    <PackageReference Include="Leasing.InMemory" Version="$version" />
    <PackageReference Include="Leasing.Sql.Sqlite" Version="$version" />
    <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.13" />
  </ItemGroup>
</Project>
PROJECT
cat > "$app/Program.cs" <<'CODE'
using System.Text.Json.Serialization;
using Leasing;
using Leasing.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// By hand, in memory: a pool, fenced state, an idempotent call.
var store = new InMemoryLeaseStore();
await using (var pool = new ChannelPool(store, new ChannelPoolOptions { Name = "relayers", Channels = ["acct-1", "acct-2"] }))
{
    for (var i = 0; i < 3; i++)
    {
        await using var account = await pool.AcquireAsync();
        var sequence = await account.GetStateAsync(SmokeJson.Default.Int64);
        if (!await account.TrySetStateAsync(sequence + 1, SmokeJson.Default.Int64))
        {
            throw new InvalidOperationException("A held account's state write was refused.");
        }
    }
}

await using (var executor = new IdempotentExecutor(new InMemoryIdempotencyStore()))
{
    var runs = 0;
    var calls = Enumerable.Range(0, 5).Select(_ => executor.ExecuteAsync("payment-42", SmokeJson.Default.String, async ct =>
    {
        Interlocked.Increment(ref runs);
        await Task.Delay(50, ct);
        return "receipt";
    }, fingerprint: "amount=100;EUR"));
    await Task.WhenAll(calls);
    if (runs != 1)
    {
        throw new InvalidOperationException($"5 duplicate calls ran {runs} times.");
    }
}

// Through DI on a SQLite file, as the package READMEs show.
var path = Path.Combine(Path.GetTempPath(), $"leasing-smoke-{Guid.NewGuid():N}.db");
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSqliteLeasing(path);
builder.Services.AddChannelPool("relayers", o => o.Channels = ["acct-1", "acct-2"]);
builder.Services.AddDistributedLock();
using (var host = builder.Build())
{
    await host.StartAsync();
    var relayers = host.Services.GetRequiredKeyedService<ChannelPool>("relayers");
    await using (var lease = await relayers.AcquireAsync())
    {
        await lease.TrySetStateAsync(7L, SmokeJson.Default.Int64);
    }

    var locks = host.Services.GetRequiredService<DistributedLock>();
    var result = await locks.TryRunExclusiveAsync("nightly-report", (handle, ct) => Task.FromResult(handle.FencingToken));
    if (!result.Acquired)
    {
        throw new InvalidOperationException("The lock was not acquired.");
    }

    await host.StopAsync();
}

File.Delete(path);
Console.WriteLine("smoke app: ok");

[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
internal sealed partial class SmokeJson : JsonSerializerContext;
CODE

if ! out="$(cd "$app" && dotnet run -c Release --configfile "$work/nuget.config" 2>&1)"; then
  echo "$out" | tail -30 >&2
  echo "package smoke: FAILED (the scratch app did not build or run against the packed packages)" >&2
  exit 1
fi
echo "$out" | grep -q "smoke app: ok" || { echo "$out" | tail -30 >&2; echo "package smoke: FAILED" >&2; exit 1; }
echo "package smoke: ok"
