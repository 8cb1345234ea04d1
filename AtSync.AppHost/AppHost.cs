using AtSync.AppHost;

// The whole AtSync system: `dotnet run` for development (Aspire dashboard), `aspire publish` for Docker Compose.
var builder = DistributedApplication.CreateBuilder(args);

if (StartupCheck.Database(builder) is { } noDatabase)
{
    return Stop(noDatabase);
}
builder.AddAtSync();
if ((StartupCheck.Parameters(builder) ?? StartupCheck.DevelopmentCertificate(builder)) is { } problem)
{
    return Stop(problem);
}

try
{
    builder.Build().Run();
}
catch (Exception e) when (StartupCheck.Message(e) is { } failed)
{
    return Stop(failed);
}
return 0;

// One line saying what is missing and how to provide it, exit code 2 (README: Aspire).
static int Stop(string problem)
{
    Console.Error.WriteLine(problem);
    return StartupCheck.ExitCode;
}
