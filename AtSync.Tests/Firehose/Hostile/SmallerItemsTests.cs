using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using AtSync.Core.Forum.Text;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Firehose;
using AtSync.Firehose.Health;
using AtSync.Firehose.Ingest;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>The smaller items of the hostile-network issue, each with what an operator now sees.</summary>
public sealed class SmallerItemsTests
{
    [Fact]
    public async Task A_capture_file_with_a_corrupt_length_prefix_is_counted_reported_and_unhealthy_not_silent()
    {
        var frames = CorpusFiles.FirehoseFrames().Take(5).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"atsync-corrupt-{Guid.NewGuid():N}.bin");
        try
        {
            await CaptureFileSource.WriteAsync(path, frames.Select(f => (ReadOnlyMemory<byte>)f), compress: false);
            // Corrupt the third record's length prefix: 0xFFFFFF00 bytes, far over any frame.
            var bytes = await File.ReadAllBytesAsync(path);
            var third = 4 + frames[0].Length + 4 + frames[1].Length;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(third), 0xFFFFFF00);
            await File.WriteAllBytesAsync(path, bytes);

            using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var meters = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            using var metrics = new FirehoseMetrics(meters);
            using var decodeErrors = new MetricCollector<long>(meters, FirehoseMetrics.MeterName, FirehoseMetrics.DecodeErrorsName);
            var state = new StreamState(FirehoseStreams.RepoService);
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var channel = Channel.CreateUnbounded<ReceivedFrame>();
            var source = new CaptureFileSource(path, state, new FirehoseOptions(), time, NullLogger.Instance, metrics);
            await source.RunAsync(channel.Writer, () => null, CancellationToken.None);

            Assert.Equal(2, source.FramesRead);
            Assert.Equal(1, decodeErrors.GetMeasurementSnapshot().Sum(m => m.Value));
            Assert.Equal($"replay stopped: the capture file record 3 (byte {third}) declares 4294967040 bytes, over the 16777216-byte limit", state.Problem);
            var check = new StreamHealthCheck(state, new FirehoseOptions(), time, time.GetUtcNow(), requireActivity: true);
            var result = await check.CheckHealthAsync(new HealthCheckContext
            {
                Registration = new HealthCheckRegistration("relay", check, HealthStatus.Unhealthy, null),
            });
            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Contains("record 3", result.Description, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("42", false)]
    [InlineData("-1", false)]
    [InlineData("Verbose", false)]
    [InlineData("warning", true)]
    [InlineData("None", true)]
    public void LOG_LEVEL_takes_level_names_only(string value, bool valid) =>
        Assert.Equal(valid, SettingChecks.LogLevelName(value) is null);

    [Fact]
    public async Task LOG_LEVEL_42_is_refused_at_start_with_one_line()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.LogLevel] = "42";
        await using var service = ServiceProcess.Start("AtSync.Firehose", settings);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(30)), service.Output);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, service.ExitCode);
        Assert.Equal("AtSync.Firehose cannot start: LOG_LEVEL is not a log level (Trace, Debug, Information, Warning, Error, Critical or None).",
            Assert.Single(service.OutputLines));
    }

    [Fact]
    public async Task A_port_in_use_gives_one_line_and_exit_code_2()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        await using var service = ServiceProcess.Start("AtSync.Firehose", ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson()), port);
        Assert.True(await service.WaitForExitAsync(TimeSpan.FromSeconds(60)), service.Output);
        Assert.Equal(ServiceRunner.InvalidSettingsExitCode, service.ExitCode);
        var line = Assert.Single(service.ErrorLines);
        Assert.Equal($"AtSync.Firehose cannot start: http://127.0.0.1:{port} is already in use (choose another with --urls or ASPNETCORE_URLS).", line);
        Assert.DoesNotContain(service.OutputLines, l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("\\n   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_relay_connect_failure_names_the_url_and_the_cause()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var closed = ServiceProcess.FreeLoopbackPort();
        var settings = ServiceSettings.For(database, ServiceSettings.NewTokenKeysJson());
        settings[SettingNames.RelayUrl] = $"ws://127.0.0.1:{closed}/xrpc/com.atproto.sync.subscribeRepos";
        settings["Firehose__LabelsEnabled"] = "false";
        await using var service = ServiceProcess.Start("AtSync.Firehose", settings);
        var expected = $"could not connect to ws://127.0.0.1:{closed}/xrpc/com.atproto.sync.subscribeRepos: connect failed: connection refused";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !service.Output.Contains(expected, StringComparison.Ordinal) && !service.HasExited) await Task.Delay(100);
        Assert.Contains(expected, service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_trigger_migration_names_the_missing_phpbb_table()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(withPhpbbSchema: false);
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        var migrator = new SchemaMigrator(dataSource, database.Tables, TimeProvider.System, NullLogger<SchemaMigrator>.Instance);
        var blocked = await Assert.ThrowsAsync<SchemaBlockedException>(() => migrator.MigrateAsync(SchemaMigrations.All, CancellationToken.None));
        Assert.StartsWith($"AtSync's schema migration 200 (queue outbox triggers on posts) needs the table {database.Tables.PhpbbPosts}, which does not exist",
            blocked.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\u0000b\u001Bc\nd\r\ne\tf\u007F\u0085g", "abc d  e fg")]
    [InlineData("<b>\"x\" & y</b>", "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;")]
    [InlineData("&amp; already", "&amp;amp; already")]
    public void Subjects_drop_controls_and_are_escaped_once(string subject, string stored) =>
        Assert.Equal(stored, PhpbbSubject.Stored(subject));

    [Fact]
    public void Subjects_drop_non_characters_and_lone_surrogates() =>
        // Not in InlineData: a lone surrogate does not survive test metadata.
        Assert.Equal("ok", PhpbbSubject.Stored("\uFFFE\uFFFF\uD800 ok\uDC00"));

    [Fact]
    public void Post_text_drops_non_characters_and_is_stored_as_phpbb_stores_it()
    {
        var message = PhpbbMessage.FromRecord("[i]x\uFFFE[/i]\uFFFF 😀", enableBbcode: true);
        Assert.Equal("<r><I><s>[i]</s>x<e>[/i]</e></I> &#128512;</r>", message.Text);
        Assert.Equal((true, false, true), (message.EnableBbcode, message.EnableSmilies, message.EnableMagicUrl));
        // enable_bbcode = 0: the markup stays text; magic links are still linked.
        Assert.Equal("<r>[i]x[/i] <URL url=\"http://a.test\">http://a.test</URL></r>",
            PhpbbMessage.FromRecord("[i]x[/i] http://a.test", enableBbcode: false).Text);
        Assert.Matches("^[0-9a-z]{8}$", PhpbbMessage.NewUid());
    }
}
