using AtSync.QueueWorker.Boards;
using AtSync.QueueWorker.Sessions;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.QueueWorker.Boards;

/// <summary>The queue harness with the forum account signed in on its loopback PDS (createSession) and stored, as the QueueWorker does at start.</summary>
internal static class BoardHarness
{
    public const string ForumHandle = "forum.test";

    public static async Task<QueueHarness> CreateAsync()
    {
        var h = await QueueHarness.CreateAsync();
        h.Pds.AddAccount(ServiceSettings.ForumDid, ForumHandle, ServiceSettings.ForumAppPassword);
        var signed = Assert.IsType<ForumSignIn.Signed>(await h.Get<ForumAccountLogin>().SignInAsync(CancellationToken.None));
        await h.Get<ForumAccountStore>().SaveAsync(signed.Session, h.Pds.BaseUri, CancellationToken.None);
        return h;
    }

    /// <summary>A forum as phpBB's ACP inserts it (FORUM_POST unless <paramref name="type"/> says otherwise).</summary>
    public static async Task<long> AddForumAsync(this QueueHarness h, string name, int type = 1, string description = "", int leftId = 10,
        long parentId = 0, string link = "")
    {
        await using var connection = await h.Database.OpenAsync();
        await using var insert = new MySqlCommand($"""
            INSERT INTO {h.Tables.PhpbbForums} (forum_name, forum_parents, forum_desc, forum_rules, forum_type, left_id, right_id, parent_id, forum_link)
            VALUES (@name, '', @desc, '', @type, @left, @left + 1, @parent, @link)
            """, connection);
        insert.Parameters.AddWithValue("@name", name);
        insert.Parameters.AddWithValue("@desc", description);
        insert.Parameters.AddWithValue("@type", type);
        insert.Parameters.AddWithValue("@left", leftId);
        insert.Parameters.AddWithValue("@parent", parentId);
        insert.Parameters.AddWithValue("@link", link);
        await insert.ExecuteNonQueryAsync();
        return insert.LastInsertedId;
    }

    public sealed record Mapping(string AtUri, string AtCid, string Slug, string? ParentCid = null);

    public static async Task<Mapping?> MappingAsync(this QueueHarness h, long forumId)
    {
        await using var connection = await h.Database.OpenAsync();
        await using var select = new MySqlCommand($"SELECT at_uri, at_cid, slug, parent_cid FROM {h.Tables.Forums} WHERE forum_id = {forumId}", connection);
        await using var reader = await select.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new Mapping(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3))
            : null;
    }

    public static Task<BoardReconciler.Result> ReconcileAsync(this QueueHarness h) =>
        h.Get<BoardReconciler>().ReconcileAsync(ServiceSettings.ForumDid, CancellationToken.None);

    public static Task<long> BoardRowsAsync(this QueueHarness h, string status = "pending") =>
        h.ScalarAsync<long>($"SELECT COUNT(*) FROM {h.Tables.Queue} WHERE collection = 'net.vza.forum.board' AND status = '{status}'");
}
