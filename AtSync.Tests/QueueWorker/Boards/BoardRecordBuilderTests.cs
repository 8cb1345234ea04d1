using System.Text;
using System.Text.Json;
using AtSync.QueueWorker.Boards;
using AtSync.QueueWorker.Records;

namespace AtSync.Tests.QueueWorker.Boards;

public sealed class BoardRecordBuilderTests
{
    private static PhpbbForum Forum(string name, string description = "", int type = 1, int status = 0, long left = 3) =>
        new(42, name, description, "", "", "", type, status, left);

    [Theory]
    [InlineData("General", "general")]
    [InlineData("Café &amp; Crème", "café-crème")]
    [InlineData("  --Hello,   World!--  ", "hello-world")]
    [InlineData("日本語 フォーラム", "日本語-フォーラム")]
    [InlineData("!!! ??? 👍", "forum-42")]
    public void Slugs_are_lowercase_words_joined_by_hyphens(string name, string slug) =>
        Assert.Equal(slug, BoardRecordBuilder.Build(Forum(name)).Slug);

    [Fact]
    public void Names_and_descriptions_longer_than_the_lexicon_allows_are_cut_at_grapheme_boundaries()
    {
        var record = BoardRecordBuilder.Build(Forum(string.Concat(Enumerable.Repeat("👍🏽", 150)), "<t>" + new string('d', 6000) + "</t>"));
        using var json = JsonDocument.Parse(record.Json);
        var name = json.RootElement.GetProperty("name").GetString()!;
        Assert.True(Encoding.UTF8.GetByteCount(name) <= 255);
        Assert.Equal(0, name.Length % "👍🏽".Length); // whole emoji with their skin tone only
        Assert.Equal(2000, json.RootElement.GetProperty("description").GetString()!.Length);
        Assert.Equal("forum-42", record.Slug);
        var longSlug = BoardRecordBuilder.Slug(string.Concat(Enumerable.Repeat("Crème ", 20)), 1);
        Assert.True(Encoding.UTF8.GetByteCount(longSlug) <= 50);
        Assert.StartsWith("crème-crème-", longSlug, StringComparison.Ordinal);
        Assert.False(longSlug.EndsWith('-'));
    }

    [Fact]
    public void Every_forum_type_becomes_a_board_record_with_its_board_type_and_an_unknown_type_is_refused()
    {
        string TypeOf(int type)
        {
            using var json = JsonDocument.Parse(BoardRecordBuilder.Build(Forum("Board", type: type)).Json);
            return json.RootElement.GetProperty("boardType").GetString()!;
        }
        Assert.Equal(["category", "forum", "link"], new[] { 0, 1, 2 }.Select(TypeOf));
        Assert.Throws<RecordBuildException>(() => BoardRecordBuilder.Build(Forum("Odd", type: 7)));
        using var json = JsonDocument.Parse(BoardRecordBuilder.Build(Forum("", status: 1, left: -1)).Json);
        Assert.Equal("Forum 42", json.RootElement.GetProperty("name").GetString());
        Assert.Equal("locked", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("order").GetInt32());
        Assert.False(json.RootElement.TryGetProperty("description", out _));
        Assert.False(json.RootElement.TryGetProperty("parent", out _));
    }

    [Fact]
    public void A_parent_is_written_as_a_strong_ref()
    {
        var parent = new AtSync.Core.Forum.StrongRef("at://did:plc:forum/net.vza.forum.board/3kparent", "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        using var json = JsonDocument.Parse(BoardRecordBuilder.Build(Forum("Child"), parent).Json);
        var written = json.RootElement.GetProperty("parent");
        Assert.Equal(parent.Uri, written.GetProperty("uri").GetString());
        Assert.Equal(parent.Cid, written.GetProperty("cid").GetString());
    }

    [Theory]
    [InlineData("https://example.com/page?a=1&amp;b=2", "https://example.com/page?a=1&b=2")]
    [InlineData("http://example.com", "http://example.com")]
    [InlineData("  https://example.com/x  ", "https://example.com/x")]
    [InlineData("", null)]
    [InlineData("/relative/path", null)]
    [InlineData("example.com", null)]
    [InlineData("javascript:alert(1)", null)]
    [InlineData("ftp://example.com/file", null)]
    [InlineData("https://exa mple.com/", null)]
    [InlineData("https:///nohost", null)]
    public void A_link_board_carries_its_link_only_when_it_is_an_absolute_http_uri(string forumLink, string? linkUrl)
    {
        var link = new PhpbbForum(42, "Link", "", "", "", "", 2, 0, 3, 0, forumLink);
        using var json = JsonDocument.Parse(BoardRecordBuilder.Build(link).Json);
        Assert.Equal(linkUrl, json.RootElement.TryGetProperty("linkUrl", out var value) ? value.GetString() : null);
        // A forum that takes posts never carries one, whatever its forum_link column holds.
        using var forum = JsonDocument.Parse(BoardRecordBuilder.Build(link with { Type = 1 }).Json);
        Assert.False(forum.RootElement.TryGetProperty("linkUrl", out _));
    }
}
