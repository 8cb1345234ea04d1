using AtSync.Core.Storage;

namespace AtSync.Firehose.Apply.Mappings;

/// <summary><c>atproto_accounts</c>: the last <c>#account</c> status per linked DID.</summary>
internal sealed class AccountRows(ForumSession db)
{
    public Task SaveAsync(string did, bool active, string? status, long time, CancellationToken ct) =>
        db.ExecuteAsync($"""
            INSERT INTO {db.Tables.Accounts} (did, active, status, updated_at) VALUES (@did, @active, @status, @time)
            ON DUPLICATE KEY UPDATE active = @active, status = @status, updated_at = @time
            """, ct, ("@did", did), ("@active", active ? 1 : 0), ("@status", AsciiColumn.Lossy(status ?? "", 64)), ("@time", time));

    /// <summary>True when the relay reported <paramref name="did"/> as deactivated.</summary>
    public async Task<bool> IsDeactivatedAsync(string did, CancellationToken ct) =>
        await db.ScalarAsync($"SELECT active FROM {db.Tables.Accounts} WHERE did = @did", ct, ("@did", did)) is { } active
        && Convert.ToInt32(active, System.Globalization.CultureInfo.InvariantCulture) == 0;
}
