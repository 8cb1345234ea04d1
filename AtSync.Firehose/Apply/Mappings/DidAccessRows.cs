using AtSync.Core.Forum;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_did_access</c>: the DIDs the forum allows or bans (migration 203).</summary>
internal sealed class DidAccessRows(ForumSession db)
{
    public async Task<DidAccess> FindAsync(string did, CancellationToken ct) =>
        DidAccessSql.Parse(await db.ScalarAsync($"SELECT access FROM {db.Tables.DidAccess} WHERE did = @did", ct, ("@did", did)) as string);
}
