using Leasing.Cli;

return await LeasingCommandLine.RunAsync(args, CliConsole.System()).ConfigureAwait(false);
