using System.Security.Cryptography;
using System.Text;
using AtSync.Core.Settings;
using AtSync.Core.Tokens;
using AtSync.Tests.Infrastructure;
using MySqlConnector;

namespace AtSync.Tests.Operations;

/// <summary><c>atsync keys reencrypt</c> on 10,000 linked users: killed halfway, run again, every token under the new key only.</summary>
public sealed class CliKeysTests
{
    private const int Users = 10_000;

    [Fact]
    public async Task Reencrypting_10000_users_survives_a_kill_halfway_and_afterwards_every_token_opens_with_the_new_key_only()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        var v1 = RandomNumberGenerator.GetBytes(32);
        var v2 = RandomNumberGenerator.GetBytes(32);
        using var old = new TokenCipher(new Dictionary<string, byte[]> { ["v1"] = v1 }, "v1");
        await ApplySchemaAsync(database);

        // 10,000 users whose access and refresh tokens are sealed with v1; the plaintexts are kept to compare.
        var plaintexts = new Dictionary<long, (string Access, string Refresh)>();
        await using (var connection = await database.OpenAsync())
        {
            for (var start = 1; start <= Users; start += 1000)
            {
                var sql = new StringBuilder($"INSERT INTO {database.Tables.Users} (user_id, did, handle, pds_url, access_token, refresh_token) VALUES ");
                for (var id = start; id < start + 1000; id++)
                {
                    var tokens = ($"access-{id}-{Guid.NewGuid():N}", $"refresh-{id}-{Guid.NewGuid():N}");
                    plaintexts[id] = tokens;
                    sql.Append(id == start ? "" : ",").Append($"({id}, 'did:plc:user{id:D8}', 'u{id}.test', 'https://pds.test', '{old.Encrypt(tokens.Item1)}', '{old.Encrypt(tokens.Item2)}')");
                }
                await using var insert = new MySqlCommand(sql.ToString(), connection);
                await insert.ExecuteNonQueryAsync();
            }
        }

        var settings = ServiceSettings.For(database, "{}");
        settings[SettingNames.TokenEncryptionKeys] = $"{{\"v1\":\"{Convert.ToBase64String(v1)}\",\"v2\":\"{Convert.ToBase64String(v2)}\"}}";
        settings[SettingNames.TokenEncryptionKeyVersion] = "v2";
        var underV2 = $"SELECT COUNT(*) FROM {database.Tables.Users} WHERE access_token LIKE 'v2:%' AND refresh_token LIKE 'v2:%'";

        // First run: slowed down between batches, killed (SIGKILL, no goodbye) once it is past the first thousands.
        using (var first = CliProcess.Start(settings, "keys", "reencrypt", "--batch-size", "100", "--pause", "25ms"))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (await database.ScalarAsync<long>(underV2) < 4000)
            {
                Assert.True(DateTime.UtcNow < deadline && !first.HasExited, "the first run made no progress or ended early");
                await Task.Delay(20);
            }
            first.KillHard();
            await first.WaitAsync(TimeSpan.FromSeconds(10));
        }
        var afterKill = await database.ScalarAsync<long>(underV2);
        Assert.InRange(afterKill, 4000, Users - 1);
        // Batches are transactions: no user is half re-encrypted.
        Assert.Equal(afterKill, await database.ScalarAsync<long>($"SELECT COUNT(*) FROM {database.Tables.Users} WHERE access_token LIKE 'v2:%' OR refresh_token LIKE 'v2:%'"));

        // Second run: resumes with the rest only, and says so.
        var second = await CliProcess.RunAsync(settings, "keys", "reencrypt", "--json");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(Users - afterKill, second.Json.GetProperty("reencrypted_users").GetInt64());
        Assert.Equal(0, second.Json.GetProperty("remaining_users").GetInt64());
        Assert.Equal(0, second.Json.GetProperty("failed_users").GetInt64());

        // Every token opens with v2 alone and is the token that was stored.
        using var onlyNew = new TokenCipher(new Dictionary<string, byte[]> { ["v2"] = v2 }, "v2");
        await using (var connection = await database.OpenAsync())
        {
            await using var read = new MySqlCommand($"SELECT user_id, access_token, refresh_token FROM {database.Tables.Users}", connection);
            await using var reader = await read.ExecuteReaderAsync();
            var seen = 0;
            while (await reader.ReadAsync())
            {
                var id = reader.GetInt64(0);
                Assert.Equal(plaintexts[id].Access, onlyNew.Decrypt(reader.GetString(1)));
                Assert.Equal(plaintexts[id].Refresh, onlyNew.Decrypt(reader.GetString(2)));
                Assert.Throws<TokenCipherException>(() => old.Decrypt(reader.GetString(1)));
                seen++;
            }
            Assert.Equal(Users, seen);
        }

        // A third run has nothing left to do.
        var third = await CliProcess.RunAsync(settings, "keys", "reencrypt");
        Assert.Equal(0, third.ExitCode);
        Assert.Contains("0 users re-encrypted to v2; 0 could not be decrypted; 0 still under another version", third.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_under_a_version_the_keys_no_longer_hold_is_reported_and_the_exit_code_says_so()
    {
        var server = await MariaDbServer.SharedAsync();
        await using var database = await server.CreateDatabaseAsync();
        await ApplySchemaAsync(database);
        var keys = ServiceSettings.NewTokenKeysJson("v3");
        using var gone = new TokenCipher(new Dictionary<string, byte[]> { ["v0"] = RandomNumberGenerator.GetBytes(32) }, "v0");
        await database.ExecuteAsync($"INSERT INTO {database.Tables.Users} (user_id, did, access_token, refresh_token) VALUES (1, 'did:plc:lost', '{gone.Encrypt("a")}', '{gone.Encrypt("r")}')");
        var settings = ServiceSettings.For(database, keys);
        settings[SettingNames.TokenEncryptionKeyVersion] = "v3";

        var run = await CliProcess.RunAsync(settings, "keys", "reencrypt", "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, run.Json.GetProperty("failed_users").GetInt64());
        Assert.Equal(1, run.Json.GetProperty("remaining_users").GetInt64());
    }

    private static async Task ApplySchemaAsync(TestDatabase database)
    {
        await using var dataSource = new MySqlDataSource(database.ConnectionString);
        await new AtSync.Core.Storage.SchemaMigrator(dataSource, database.Tables, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<AtSync.Core.Storage.SchemaMigrator>.Instance)
            .MigrateAsync(AtSync.Core.Storage.SchemaMigrations.All, CancellationToken.None);
    }
}
