using System.Net;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Firehose.Events;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose;

/// <summary>The relay misbehaving: dropped and stalled connections, refusals with Retry-After, info/error/garbage frames.</summary>
public sealed class RelayConnectionTests
{
    private static readonly string BoardUri = $"at://{FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral";
    private static readonly StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    private static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private static List<(long, byte[])> Topics(ForumFrameFactory frames, int count, long firstSeq = 1) =>
        [.. Enumerable.Range(0, count).Select(i => (firstSeq + i, frames.Post(firstSeq + i, $"did:plc:user{(char)('a' + (i % 5))}aaaaaaaaaaaaaaaaaaa", $"3ktopic{i:00000}",
            new ForumPostRecord($"text {i}", null, Board, $"Topic {i}", null, null, null), T0.AddSeconds(i)).Frame))];

    [Fact]
    public async Task A_relay_that_drops_mid_stream_then_stalls_is_resumed_from_the_cursor_without_loss_or_duplicates()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(Topics(frames, 30));
        relay.Script(new RelayBehavior { DropAfter = 10 }, new RelayBehavior { StallAfter = 5 });

        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 30, TimeSpan.FromSeconds(60));

        var t = database.Tables;
        Assert.Equal(30L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.PhpbbTopics}"));
        Assert.Equal(30L, await database.ScalarAsync<long>($"SELECT COUNT(DISTINCT at_uri) FROM {t.Posts}"));
        Assert.Equal(30L, await database.ScalarAsync<long>($"SELECT forum_topics_approved FROM {t.PhpbbForums}"));
        // First connection without a cursor (first run), then each reconnect asks from the last processed seq.
        var cursors = relay.Cursors;
        Assert.True(cursors.Count >= 3, $"expected 3+ connections, saw {cursors.Count}");
        Assert.Null(cursors[0]);
        Assert.Equal("10", cursors[1]);
        Assert.Equal("15", cursors[2]);
        Assert.True(FirehoseHarness.Sum(firehose.Reconnects) >= 2);
        Assert.Equal(30, FirehoseHarness.Sum(firehose.ForumOps, "action", "topic"));
    }

    [Fact]
    public async Task Info_error_and_garbage_frames_are_counted_and_skipped_and_429_is_retried_after_Retry_After()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        using var frames = ForumFrameFactory.Create();
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.Publish(Topics(frames, 5));
        relay.Script(
            new RelayBehavior { Reject = HttpStatusCode.TooManyRequests, RetryAfter = "1" },
            new RelayBehavior { Reject = HttpStatusCode.BadGateway },
            new RelayBehavior
            {
                Prelude = [ForumFrameFactory.Info("OutdatedCursor", "cursor too old"), [0xff, 0x00, 0x13], "not cbor at all"u8.ToArray(), [0xa2, 0x62, 0x6f, 0x70]],
                DropAfter = 3,
            },
            new RelayBehavior { Prelude = [ForumFrameFactory.Error("ConsumerTooSlow", "slow down")], CloseAfterPrelude = true });

        var started = DateTime.UtcNow;
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url, signingKey: frames.SigningKey.PublicKey);
        await firehose.WaitForCursorAsync(FirehoseStreams.RepoService, 5, TimeSpan.FromSeconds(60));

        Assert.Equal(5L, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.PhpbbTopics}"));
        Assert.True(relay.Connections >= 5);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1), "Retry-After: 1 was not honoured");
        Assert.Equal(3, FirehoseHarness.Sum(firehose.DecodeErrors));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Events, "type", "info"));
        Assert.Equal(1, FirehoseHarness.Sum(firehose.Events, "type", "error"));
        Assert.Equal(5, FirehoseHarness.Sum(firehose.Events, "type", "commit"));
        Assert.True(FirehoseHarness.Sum(firehose.Reconnects) >= 4);
    }

    [Fact]
    public async Task Health_is_unhealthy_while_the_relay_is_unreachable_and_healthy_once_connected()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        await using var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        relay.RejectAll = HttpStatusCode.ServiceUnavailable;
        await using var firehose = await FirehoseHarness.StartAsync(database, relay.Url);
        using var http = new HttpClient { BaseAddress = firehose.BaseAddress };

        var body = await WaitForHealthAsync(http, HttpStatusCode.ServiceUnavailable, b => RelayCheck(b).Description.StartsWith("disconnected", StringComparison.Ordinal));
        var relayCheck = RelayCheck(body);
        Assert.True(relayCheck.Status == "Unhealthy" && relayCheck.Description == "disconnected: HTTP 503 on connect", body);
        Assert.DoesNotContain(server.Password ?? "no-password", body);

        relay.RejectAll = null;
        body = await WaitForHealthAsync(http, HttpStatusCode.OK, _ => true);
        relayCheck = RelayCheck(body);
        Assert.True(relayCheck.Status == "Healthy" && relayCheck.Description.StartsWith("connected", StringComparison.Ordinal), body);
        Assert.EndsWith("no cursor yet (first run)", relayCheck.Description);
        Assert.True(FirehoseHarness.Sum(firehose.Reconnects) >= 1);
    }

    private static (string Status, string Description) RelayCheck(string body)
    {
        using var json = System.Text.Json.JsonDocument.Parse(body);
        var check = json.RootElement.GetProperty("checks").GetProperty(FirehoseRegistration.RelayHealthCheckName);
        return (check.GetProperty("status").GetString()!, check.TryGetProperty("description", out var d) ? d.GetString()! : "");
    }

    private static async Task<string> WaitForHealthAsync(HttpClient http, HttpStatusCode expected, Func<string, bool> accept)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var response = await http.GetAsync("/health");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == expected && accept(body)) return body;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/health stayed {response.StatusCode}: {body}");
            await Task.Delay(100);
        }
    }
}
