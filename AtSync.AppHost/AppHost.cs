using AtSync.AppHost;

// The whole AtSync system: `dotnet run` for development (Aspire dashboard), `aspire publish` for Docker Compose.
var builder = DistributedApplication.CreateBuilder(args);
builder.AddAtSync();
builder.Build().Run();
