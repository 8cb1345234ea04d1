using AtSync.Firehose;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Tests.Firehose;

/// <summary>The repository stream's health check is named after the source the settings choose.</summary>
public sealed class StreamHealthNameTests
{
    [Theory]
    [InlineData(null, null, "relay")]
    [InlineData("relay", null, "relay")]
    [InlineData("jetstream", null, "jetstream")]
    [InlineData("JetStream", null, "jetstream")]
    [InlineData("file", "capture.bin", "file")]
    [InlineData(null, "capture.bin", "file")]
    public void The_repository_stream_check_is_named_after_its_source(string? source, string? replayFile, string expected)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [FirehoseOptions.SourceSetting] = source,
            [FirehoseOptions.ReplayFileSetting] = replayFile,
        });
        builder.AddFirehose();
        using var host = builder.Build();
        var names = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name).ToList();
        Assert.Contains(expected, names);
        Assert.Contains(FirehoseRegistration.LabelsHealthCheckName, names);
        Assert.Empty(new[] { "relay", "jetstream", "file" }.Where(n => n != expected).Intersect(names));
    }

    [Fact]
    public void A_source_that_names_none_is_refused_by_the_options_not_taken_for_the_relay()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [FirehoseOptions.SourceSetting] = "kafka" }).Build();
        Assert.Null(FirehoseRegistration.ConfiguredSource(configuration));
    }
}
