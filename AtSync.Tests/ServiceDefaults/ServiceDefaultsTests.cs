using AtSync.Core.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AtSync.Tests.ServiceDefaults;

public sealed class ServiceDefaultsTests
{
    private static ILoggerFactory LoggersFor(string? logLevel)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection([new(SettingNames.LogLevel, logLevel)]);
        builder.AddLogLevelSetting();
        builder.AddServiceDefaults();
        return builder.Build().Services.GetRequiredService<ILoggerFactory>();
    }

    [Fact]
    public void Http_client_request_logs_that_carry_bearer_tokens_stay_off_even_at_trace()
    {
        var loggers = LoggersFor("Trace");

        Assert.True(loggers.CreateLogger("AtSync.QueueWorker.Delivery").IsEnabled(LogLevel.Trace));
        Assert.False(loggers.CreateLogger("System.Net.Http.HttpClient.pds.ClientHandler").IsEnabled(LogLevel.Trace));
        Assert.False(loggers.CreateLogger("System.Net.Http.HttpClient.pds.LogicalHandler").IsEnabled(LogLevel.Debug));
        Assert.True(loggers.CreateLogger("System.Net.Http.HttpClient.pds.LogicalHandler").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void Log_level_setting_also_quiets_http_client_logs()
    {
        var loggers = LoggersFor("Warning");

        Assert.False(loggers.CreateLogger("AtSync.Firehose").IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger("System.Net.Http.HttpClient.pds.LogicalHandler").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("System.Net.Http.HttpClient.pds.LogicalHandler").IsEnabled(LogLevel.Warning));
    }
}
