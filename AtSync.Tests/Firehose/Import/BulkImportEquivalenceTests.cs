using System.Text;
using AtSync.Core.Forum;
using AtSync.Firehose;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Firehose.Import;

/// <summary>
/// The importer's bulk writes (<c>Import:BulkWrites</c>, multi-row INSERTs and counters once per batch) against the live
/// appliers one record at a time: the same repository, imported in the same steps into two fresh forums, leaves the
/// same rows in every table both paths write, column for column (surrogate ids included), but the random
/// <c>bbcode_uid</c>.
/// </summary>
public sealed class BulkImportEquivalenceTests
{
    private const string Carol = "did:plc:carolbulkccccccccccccccc";

    [Fact]
    public async Task A_bulk_import_leaves_the_same_rows_as_the_live_appliers_one_record_at_a_time()
    {
        // Small batches, so topics and their replies are split across batches (a reply's topic then comes from phpBB).
        await using var bulk = await ImportHarness.StartAsync(extra: new Dictionary<string, string?> { ["Import:BatchSize"] = "25" });
        await using var single = await ImportHarness.StartAsync(extra: new Dictionary<string, string?>
        {
            ["Import:BatchSize"] = "25",
            ["Import:BulkWrites"] = "false",
        });
        using var repo = bulk.Repository(Carol);
        single.Plc.Keys[Carol] = repo.Key.PublicKey;
        single.Plc.Pds[Carol] = single.Pds.BaseUri;
        var roots = repo.Generate(topics: 20, repliesPerTopic: 5);
        var first = repo.ExportCar();
        bulk.Pds.Repos[Carol] = () => first;
        single.Pds.Repos[Carol] = () => first;

        var bulkFirst = await bulk.ImportAsync(Carol);
        var singleFirst = await single.ImportAsync(Carol);
        Assert.True(bulkFirst.Succeeded, bulkFirst.Reason);
        Assert.True(singleFirst.Succeeded, singleFirst.Reason);
        Assert.Equal((5, 0), (bulkFirst.Timings.BulkBatches, bulkFirst.Timings.RecordBatches));
        Assert.Equal((0, 5), (singleFirst.Timings.BulkBatches, singleFirst.Timings.RecordBatches));
        await AssertSameRowsAsync(single.Database, bulk.Database);

        // The repository moves on: an edit (that batch goes one record at a time), replies into topics phpBB has, new
        // topics with replies, and a sticky topic the author may not set (posted as a normal one, and counted).
        repo.Put(roots[2], repo.Edit(roots[2], "topic 2, edited", "post topic 2, edited"));
        for (var i = 0; i < 6; i++) repo.Put(repo.NextRkey(), repo.Reply(roots[i * 3], $"a later reply {i}"));
        for (var t = 0; t < 4; t++)
        {
            var root = repo.NextRkey();
            repo.Put(root, repo.Topic($"later topic {t}", $"later topic {t} opens"));
            for (var r = 0; r < 7; r++) repo.Put(repo.NextRkey(), repo.Reply(root, $"later reply {r} in {t}"));
        }
        var sticky = repo.NextRkey();
        repo.Put(sticky, repo.Topic("asks to be sticky", "a sticky topic") with { TopicType = ForumTopicType.Sticky });
        repo.Put(repo.NextRkey(), repo.Reply(sticky, "a reply in it"));
        for (var t = 0; t < 3; t++)
        {
            var root = repo.NextRkey();
            repo.Put(root, repo.Topic($"last topic {t}", $"last topic {t} opens"));
            for (var r = 0; r < 9; r++) repo.Put(repo.NextRkey(), repo.Reply(root, $"last reply {r} in {t}"));
        }
        var second = repo.ExportCar();
        bulk.Pds.Repos[Carol] = () => second;
        single.Pds.Repos[Carol] = () => second;

        var bulkSecond = await bulk.ImportAsync(Carol);
        var singleSecond = await single.ImportAsync(Carol);
        Assert.True(bulkSecond.Succeeded, bulkSecond.Reason);
        Assert.True(singleSecond.Succeeded, singleSecond.Reason);
        Assert.Equal(71, bulkSecond.Plan!.Ops.Count);
        Assert.True(bulkSecond.Timings.BulkBatches >= 1, "some batches were written in bulk");
        Assert.True(bulkSecond.Timings.RecordBatches >= 2, "the batches with the edit and the sticky topic went one record at a time");
        Assert.Equal(0, singleSecond.Timings.BulkBatches);
        Assert.Equal(singleSecond.Applied.Applied.OrderBy(p => p.Key), bulkSecond.Applied.Applied.OrderBy(p => p.Key));
        Assert.Equal(singleSecond.Applied.Skipped.OrderBy(p => p.Key), bulkSecond.Applied.Skipped.OrderBy(p => p.Key));
        Assert.Equal(1, bulkSecond.Applied.Skipped.GetValueOrDefault(Outcomes.TopicTypeNotAllowed));
        await AssertSameRowsAsync(single.Database, bulk.Database);
        Assert.Equal(await DatabaseSnapshot.TakeAsync(single.Database), await DatabaseSnapshot.TakeAsync(bulk.Database));

        // Importing again changes nothing on either path.
        var before = await DatabaseSnapshot.TakeAsync(bulk.Database);
        var third = await bulk.ImportAsync(Carol);
        Assert.True(third.Succeeded, third.Reason);
        Assert.Empty(third.Plan!.Ops);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(bulk.Database));
    }

    private static async Task AssertSameRowsAsync(TestDatabase expected, TestDatabase actual)
    {
        var t = expected.Tables;
        foreach (var table in new[] { t.PhpbbPosts, t.PhpbbTopics, t.PhpbbForums, t.PhpbbUsers, t.Posts, t.RecordRevisions, t.Users, t.ParkedPosts })
        {
            var want = await RowsAsync(expected, table);
            var got = await RowsAsync(actual, table);
            Assert.True(want.Count > 0 || table == t.ParkedPosts, $"{table} is empty");
            Assert.Equal(want.Count, got.Count);
            for (var i = 0; i < want.Count; i++) Assert.Equal(want[i], got[i]);
        }
    }

    /// <summary>Every row of <paramref name="table"/>, every column but <c>bbcode_uid</c> (random per post), in column order, sorted.</summary>
    private static async Task<List<string>> RowsAsync(TestDatabase database, string table)
    {
        await using var connection = await database.OpenAsync();
        var columns = new List<string>();
        await using (var find = new MySqlCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = @table ORDER BY ordinal_position", connection))
        {
            find.Parameters.AddWithValue("@table", table.Trim('`'));
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync()) columns.Add(reader.GetString(0));
        }
        columns.Remove("bbcode_uid");
        var rows = new List<string>();
        var list = string.Join(", ", columns.Select(c => $"`{c}`"));
        await using (var select = new MySqlCommand($"SELECT {list} FROM {table} ORDER BY {list}", connection))
        {
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var row = new StringBuilder();
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row.Append(columns[i]).Append('=').Append(reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
                }
                rows.Add(row.ToString());
            }
        }
        return rows;
    }
}
