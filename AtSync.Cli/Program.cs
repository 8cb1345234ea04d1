using AtSync.Cli;

return await AtSyncCommand.RunAsync(args, Console.Out, Console.Error);
