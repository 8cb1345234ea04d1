using System.Threading.Channels;
using AtSync.Core.Forum.Text;
using AtSync.Core.Resilience;
using AtSync.Firehose;
using AtSync.Firehose.Ingest;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.Firehose;

public sealed class FirehoseUnitTests
{
    [Fact]
    public void Backoff_doubles_from_the_initial_delay_to_the_cap_with_jitter_and_resets()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), jitter: 0.5, new Random(7));
        var bases = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var baseDelay = backoff.CurrentBase;
            var delay = backoff.Next();
            Assert.InRange(delay.TotalSeconds, baseDelay.TotalSeconds * 0.5, baseDelay.TotalSeconds);
            bases.Add(baseDelay.TotalSeconds);
        }
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60, 60], bases);
        backoff.Reset();
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.CurrentBase);
        Assert.Equal(0, backoff.Attempt);
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("0", 0)]
    [InlineData("100000", 600)]
    [InlineData("Mon, 23 Nov 2026 10:00:45 GMT", 45)]
    public void Retry_after_reads_seconds_and_http_dates(string header, double expectedSeconds)
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var delay = WebSocketFrameSource.RetryAfter(new Dictionary<string, IEnumerable<string>> { ["Retry-After"] = [header] }, now);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Fact]
    public void Retry_after_is_absent_when_missing_or_unreadable()
    {
        Assert.Null(WebSocketFrameSource.RetryAfter(null, DateTimeOffset.UnixEpoch));
        Assert.Null(WebSocketFrameSource.RetryAfter(new Dictionary<string, IEnumerable<string>> { ["Retry-After"] = ["soon"] }, DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData("wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos", null, "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos")]
    [InlineData("wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos", 42L, "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos?cursor=42")]
    [InlineData("ws://127.0.0.1:5000/x?cursor=1&a=b", 7L, "ws://127.0.0.1:5000/x?a=b&cursor=7")]
    public void The_cursor_is_set_in_the_stream_url(string url, long? cursor, string expected) =>
        Assert.Equal(expected, WebSocketFrameSource.WithCursor(new Uri(url), cursor).ToString());

    [Theory]
    [InlineData("https://pds.example.com", "/xrpc/com.atproto.label.subscribeLabels", "wss://pds.example.com/xrpc/com.atproto.label.subscribeLabels")]
    [InlineData("http://127.0.0.1:9", "/xrpc/com.atproto.label.subscribeLabels", "ws://127.0.0.1:9/xrpc/com.atproto.label.subscribeLabels")]
    [InlineData("wss://relay.example/xrpc/com.atproto.sync.subscribeRepos", "/xrpc/com.atproto.sync.subscribeRepos", "wss://relay.example/xrpc/com.atproto.sync.subscribeRepos")]
    public void Stream_urls_become_websocket_urls_with_the_method_path(string configured, string path, string expected) =>
        Assert.Equal(expected, FirehoseStreams.StreamUrl(configured, path).ToString());

    [Theory]
    [InlineData("Alice.Example.COM", "alice.example.com")]
    [InlineData("  Two   Spaces  ", "two spaces")]
    public void Username_clean_folds_case_and_whitespace_like_phpbb(string username, string clean) =>
        Assert.Equal(clean, PhpbbUsernames.Clean(username));

    [Fact]
    public void Post_text_is_stored_as_phpbb_text_formatter_xml()
    {
        Assert.Equal("<t>a &lt;b&gt; &amp; c<br/>\nd</t>", PhpbbText.FromRecordText("a <b> & c\r\nd"));
        Assert.Equal(32, PhpbbText.Checksum("x").Length);
    }

    [Fact]
    public void Post_time_is_the_declared_time_unless_it_is_after_the_event()
    {
        var eventTime = DateTimeOffset.Parse("2026-07-04T15:00:00Z").ToUnixTimeSeconds();
        Assert.Equal(eventTime - 60, ForumTransactionTime("2026-07-04T14:59:00Z", eventTime));
        Assert.Equal(eventTime, ForumTransactionTime("2030-01-01T00:00:00Z", eventTime));
        Assert.Equal(eventTime, ForumTransactionTime("yesterday", eventTime));
    }

    private static long ForumTransactionTime(string createdAt, long eventTime) => EventTimes.PostTime(createdAt, eventTime);

    [Fact]
    public async Task A_capture_file_round_trips_plain_and_zstd_and_feeds_the_channel_in_order()
    {
        var frames = CorpusFiles.FirehoseFrames();
        foreach (var compress in new[] { false, true })
        {
            var path = Path.Combine(Path.GetTempPath(), $"atsync-capture-{Guid.NewGuid():N}.bin");
            try
            {
                await CaptureFileSource.WriteAsync(path, frames.Select(f => (ReadOnlyMemory<byte>)f), compress);
                Assert.Equal(frames, CaptureFileSource.ReadAll(path));

                var channel = Channel.CreateUnbounded<ReceivedFrame>();
                var state = new StreamState("firehose");
                var source = new CaptureFileSource(path, state, new FirehoseOptions(), new FakeTimeProvider(), NullLogger.Instance);
                await source.RunAsync(channel.Writer, () => null, CancellationToken.None);
                channel.Writer.Complete();
                var read = new List<byte[]>();
                await foreach (var frame in channel.Reader.ReadAllAsync())
                {
                    using (frame) read.Add(frame.Bytes.ToArray());
                }
                Assert.Equal(frames, read);
                Assert.True(state.IsReplay);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public async Task A_full_channel_makes_the_source_wait_instead_of_dropping()
    {
        var frames = CorpusFiles.FirehoseFrames();
        var path = Path.Combine(Path.GetTempPath(), $"atsync-capture-{Guid.NewGuid():N}.bin");
        try
        {
            await CaptureFileSource.WriteAsync(path, frames.Select(f => (ReadOnlyMemory<byte>)f), compress: false);
            var channel = FrameChannel.Create(4);
            var source = new CaptureFileSource(path, new StreamState("firehose"), new FirehoseOptions(), TimeProvider.System, NullLogger.Instance);
            var run = source.RunAsync(channel.Writer, () => null, CancellationToken.None);
            await Task.Delay(300);
            Assert.False(run.IsCompleted);
            Assert.Equal(4, channel.Reader.Count);
            var count = 0;
            while (count < frames.Count)
            {
                var frame = await channel.Reader.ReadAsync();
                Assert.Equal(frames[count], frame.Bytes.ToArray());
                frame.Dispose();
                count++;
            }
            await run;
            Assert.Equal(frames.Count, count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
