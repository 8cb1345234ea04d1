using AtSync.Core.Storage;
using AtSync.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AtSync.Tests.Core;

public sealed class SchemaMigrationTests
{
    private static SchemaMigrator Migrator(MySqlDataSource dataSource, string prefix) =>
        new(dataSource, new AtSyncTables(prefix), TimeProvider.System, NullLogger<SchemaMigrator>.Instance);

    [Fact]
    public void Catalog_versions_are_unique_ascending_and_start_with_the_core_tables()
    {
        var versions = SchemaMigrations.All.Select(m => m.Version).ToList();
        Assert.NotEmpty(versions);
        Assert.Equal(versions.OrderBy(v => v).Distinct(), versions);
        Assert.Equal(1, versions[0]);
        Assert.All(SchemaMigrations.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Name)));
    }

    [Fact]
    public async Task First_run_creates_every_table_of_the_data_contract_and_records_every_version()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await using var dataSource = new MySqlDataSource(database.ConnectionString);

        var applied = await Migrator(dataSource, database.Prefix).MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), applied);
        var t = database.Tables;
        foreach (var table in new[] { t.Cursors, t.Queue, t.Users, t.Posts, t.Forums, t.Labels, t.SchemaMigrations })
        {
            Assert.Equal(1L, await database.ScalarAsync<long>(
                $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}' AND engine = 'InnoDB'"));
        }
        Assert.Equal(SchemaMigrations.All.Count, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {t.SchemaMigrations}"));
    }

    [Fact]
    public async Task Tables_follow_the_data_contract_columns()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        await Migrator(dataSource, database.Prefix).MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        var expected = new Dictionary<string, string[]>
        {
            [database.Tables.Cursors] = ["service", "cursor_value", "updated_at"],
            [database.Tables.Queue] = ["id", "operation", "collection", "rkey", "record_data", "user_did", "local_id", "status", "attempts", "max_attempts", "last_error", "next_retry_at", "created_at"],
            [database.Tables.Users] = ["user_id", "did", "handle", "pds_url", "access_token", "refresh_token", "token_expires_at", "created_at", "updated_at"],
            [database.Tables.Posts] = ["post_id", "at_uri", "at_cid", "author_did", "is_topic_starter", "sync_status", "created_at", "updated_at"],
            [database.Tables.Forums] = ["forum_id", "at_uri", "at_cid", "slug"],
            [database.Tables.Labels] = ["subject_uri", "label_value", "label_src", "subject_cid", "negated", "expires_at", "created_at", "updated_at"],
        };
        foreach (var (table, columns) in expected)
        {
            foreach (var column in columns)
            {
                Assert.True(1L == await database.ScalarAsync<long>(
                    $"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = '{column}'"),
                    $"{table}.{column} is missing");
            }
        }

        // cursor_value holds a relay seq (above 2^32 today) without loss; the queue's (status, next_retry_at) index exists.
        await database.ExecuteAsync($"INSERT INTO {database.Tables.Cursors} (service, cursor_value, updated_at) VALUES ('firehose', 18446744073709551615, 1)");
        Assert.Equal(ulong.MaxValue, await database.ScalarAsync<ulong>($"SELECT cursor_value FROM {database.Tables.Cursors}"));
        Assert.Equal(2L, await database.ScalarAsync<long>(
            $"SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '{database.Tables.Queue}' AND index_name = 'status_next_retry'"));
    }

    [Fact]
    public async Task Applying_twice_is_a_no_op()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        var migrator = Migrator(dataSource, database.Prefix);
        await migrator.MigrateAsync(SchemaMigrations.All, CancellationToken.None);
        await database.ExecuteAsync($"INSERT INTO {database.Tables.Cursors} (service, cursor_value, updated_at) VALUES ('labels', 42, 1)");
        var appliedAtBefore = await database.ScalarAsync<string>($"SELECT GROUP_CONCAT(version, ':', applied_at ORDER BY version) FROM {database.Tables.SchemaMigrations}");

        var second = await migrator.MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        Assert.Empty(second);
        Assert.Equal(appliedAtBefore, await database.ScalarAsync<string>($"SELECT GROUP_CONCAT(version, ':', applied_at ORDER BY version) FROM {database.Tables.SchemaMigrations}"));
        Assert.Equal(42L, await database.ScalarAsync<long>($"SELECT cursor_value FROM {database.Tables.Cursors} WHERE service = 'labels'"));
    }

    [Fact]
    public async Task Concurrent_migrators_apply_each_version_exactly_once()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var dataSources = Enumerable.Range(0, 6).Select(_ => new MySqlDataSource(database.ConnectionString)).ToList();
        try
        {
            using var start = new Barrier(dataSources.Count);
            var runs = dataSources.Select(ds => Task.Run(async () =>
            {
                start.SignalAndWait();
                return await Migrator(ds, database.Prefix).MigrateAsync(SchemaMigrations.All, CancellationToken.None);
            })).ToList();
            var results = await Task.WhenAll(runs);

            // Exactly one run applied everything; the others found the schema current.
            Assert.Single(results, r => r.Count == SchemaMigrations.All.Count);
            Assert.Equal(dataSources.Count - 1, results.Count(r => r.Count == 0));
            Assert.Equal(SchemaMigrations.All.Count, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.SchemaMigrations}"));
        }
        finally
        {
            foreach (var ds in dataSources) await ds.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_table_prefix_is_applied_to_every_table()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync(prefix: "forum2_");
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        await Migrator(dataSource, "forum2_").MigrateAsync(SchemaMigrations.All, CancellationToken.None);

        Assert.Equal(0L, await database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'phpbb\\_%'"));
        Assert.True(await database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'forum2\\_atproto\\_%'") >= 7);
    }

    [Fact]
    public async Task Phpbb_schema_fixture_creates_phpbb_33_tables()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        // A few columns phpBB 3.3 relies on, including ones added by its 3.3 migrations.
        foreach (var (table, column) in new[]
        {
            ("phpbb_posts", "post_visibility"), ("phpbb_topics", "topic_posts_approved"), ("phpbb_topics", "topic_first_post_id"),
            ("phpbb_forums", "forum_posts_approved"), ("phpbb_forums", "display_subforum_limit"), ("phpbb_users", "user_last_active"),
            ("phpbb_users", "username_clean"),
        })
        {
            Assert.True(1L == await database.ScalarAsync<long>(
                $"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = '{column}'"),
                $"{table}.{column}");
        }
    }
}
