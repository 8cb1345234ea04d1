using AtSync.Core.Storage;
using AtSync.Firehose.Apply.Phpbb;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_users</c>: which phpBB user a DID is, and its verified handle ('' when its handle does not resolve back to it).</summary>
internal sealed class UserLinks(ForumSession db)
{
    /// <summary>The phpBB user linked to <paramref name="did"/>, or null.</summary>
    public async Task<PhpbbUser?> FindAsync(string did, CancellationToken ct)
    {
        var t = db.Tables;
        await using var find = db.Command($"""
            SELECT u.user_id, u.username, u.user_colour FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id WHERE au.did = @did
            """, ("@did", did));
        await using var reader = await find.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new PhpbbUser(reader.UInt32At(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    /// <summary>The phpBB user linked to <paramref name="did"/> and the handle stored for it ('' when none is verified), or null.</summary>
    public async Task<(PhpbbUser User, string Handle)?> FindWithHandleAsync(string did, CancellationToken ct)
    {
        var t = db.Tables;
        await using var find = db.Command($"""
            SELECT u.user_id, u.username, u.user_colour, au.handle FROM {t.Users} au JOIN {t.PhpbbUsers} u ON u.user_id = au.user_id WHERE au.did = @did
            """, ("@did", did));
        await using var reader = await find.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (new PhpbbUser(reader.UInt32At(0), reader.GetString(1), reader.GetString(2)), reader.IsDBNull(3) ? "" : reader.GetString(3))
            : null;
    }

    /// <summary>The phpBB user id linked to <paramref name="did"/>, or null.</summary>
    public async Task<uint?> UserIdAsync(string did, CancellationToken ct) =>
        await db.ScalarAsync($"SELECT user_id FROM {db.Tables.Users} WHERE did = @did", ct, ("@did", did)) is { } id ? RowValues.ToUInt32(id) : null;

    public Task LinkAsync(uint userId, string did, string? handle, long time, CancellationToken ct) =>
        db.ExecuteAsync($"INSERT INTO {db.Tables.Users} (user_id, did, handle, created_at, updated_at) VALUES (@id, @did, @handle, @time, @time)", ct,
            ("@id", userId), ("@did", did), ("@handle", handle is not null && AsciiColumn.Fits(handle, 253) ? handle : ""), ("@time", time));

    /// <summary>Stores a linked DID's verified handle ('' for none); false when the DID is not linked.</summary>
    public async Task<bool> SetHandleAsync(string did, string handle, long time, CancellationToken ct) =>
        await db.ExecuteAsync($"UPDATE {db.Tables.Users} SET handle = @handle, updated_at = @time WHERE did = @did", ct,
            ("@handle", handle), ("@time", time), ("@did", did)) > 0;

    /// <summary>The phpBB user linked to <paramref name="did"/> and whether the link holds an AtSync session; null when not linked.</summary>
    public async Task<LinkedUser?> FindLinkAsync(string did, CancellationToken ct)
    {
        await using var find = db.Command(
            $"SELECT au.user_id, {LinkedSession.HasSessionSql("au")} FROM {db.Tables.Users} au WHERE au.did = @did", ("@did", did));
        await using var reader = await find.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new LinkedUser(reader.UInt32At(0), reader.Int32At(1) != 0) : null;
    }
}
