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
    public void Only_forums_that_take_posts_become_board_records()
    {
        Assert.Throws<RecordBuildException>(() => BoardRecordBuilder.Build(Forum("Category", type: 0)));
        Assert.Throws<RecordBuildException>(() => BoardRecordBuilder.Build(Forum("Link", type: 2)));
        using var json = JsonDocument.Parse(BoardRecordBuilder.Build(Forum("", status: 1, left: -1)).Json);
        Assert.Equal("Forum 42", json.RootElement.GetProperty("name").GetString());
        Assert.Equal("locked", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("order").GetInt32());
        Assert.False(json.RootElement.TryGetProperty("description", out _));
    }
}
