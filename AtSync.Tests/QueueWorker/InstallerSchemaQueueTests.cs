using System.Text.Json;
using AtSync.Core.Forum.Text;

namespace AtSync.Tests.QueueWorker;

/// <summary>
/// The outbox and the QueueWorker on phpBB's tables as its installer makes them: <c>post_subject</c> is
/// <c>utf8_unicode_ci</c>, under which "hello" equals "Hello"; characters outside the BMP are stored as references.
/// </summary>
public sealed class InstallerSchemaQueueTests
{
    [Theory]
    [InlineData("hello world", "Hello world")]
    [InlineData("resume", "résumé")]
    [InlineData("Cafe", "Café")]
    [InlineData("same words", "same words ")]
    public async Task A_subject_only_edit_that_changes_case_accents_or_spacing_queues_an_update(string before, string after)
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        var (_, postId) = await h.PostTopicAsync(user.UserId, before, "<t>unchanged text</t>");
        await h.DrainAsync();
        Assert.Empty(await h.QueueRowsAsync());
        // The column's collation calls the two subjects equal.
        Assert.Equal(1L, await h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.PhpbbPosts} WHERE post_id = {postId} AND post_subject = '{after}'"));

        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_subject = '{after}' WHERE post_id = {postId}");

        var row = Assert.Single(await h.QueueRowsAsync());
        Assert.Equal("update", row.Operation);
        Assert.Equal(postId, row.LocalId);
        await h.DrainAsync();
        var state = await h.AtprotoPostAsync(postId);
        using var record = JsonDocument.Parse(h.Pds.Records[state!.AtUri!]);
        Assert.Equal(after, record.RootElement.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task An_edit_that_changes_nothing_queues_nothing()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        var (_, postId) = await h.PostTopicAsync(user.UserId, "Stays", "<t>same</t>");
        await h.DrainAsync();

        await h.ExecuteAsync($"UPDATE {h.Tables.PhpbbPosts} SET post_subject = 'Stays', post_text = '<t>same</t>', post_edit_count = 3 WHERE post_id = {postId}");

        Assert.Empty(await h.QueueRowsAsync());
    }

    [Fact]
    public async Task A_post_written_on_phpbb_with_emoji_is_published_with_the_characters_themselves()
    {
        await using var h = await QueueHarness.CreateAsync();
        var user = await h.LinkUserAsync();
        // As phpBB 3.3 writes them: posting.php's utf8_encode_ucr on the subject, s9e TextFormatter's references in the XML.
        const string subject = "Ünïcödé 🎉 中文 مرحبا";
        const string text = "Emoji 😀 and 𠀋, RTL שלום, combining q\u0303";
        var (_, postId) = await h.PostTopicAsync(user.UserId, PhpbbColumnText.Subject(subject), PhpbbText.FromRecordText(text));
        Assert.Equal("Ünïcödé &#127881; 中文 مرحبا", await h.ScalarAsync<string>($"SELECT post_subject FROM {h.Tables.PhpbbPosts} WHERE post_id = {postId}"));

        await h.DrainAsync();

        var state = await h.AtprotoPostAsync(postId);
        Assert.Equal("synced", state!.SyncStatus);
        using var record = JsonDocument.Parse(h.Pds.Records[state.AtUri!]);
        Assert.Equal(subject, record.RootElement.GetProperty("subject").GetString());
        Assert.Equal(text, record.RootElement.GetProperty("text").GetString());
    }
}
