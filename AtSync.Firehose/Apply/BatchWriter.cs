using AtSync.Core.Storage;
using AtSync.Firehose.Apply.Appliers;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Events;
using MySqlConnector;

namespace AtSync.Firehose.Apply;

/// <summary>Whose labels count.</summary>
public sealed record FirehoseIdentity(string ForumDid, string LabelerDid);

/// <summary>
/// The apply stage: writes a prepared batch's events plus the stream's new cursor in one transaction, so a crash at any
/// moment leaves either both or neither; and reads a stream's cursor at start.
/// </summary>
public sealed class BatchWriter(MySqlDataSource dataSource, AtSyncTables tables, FirehoseIdentity identity)
{
    public async Task<long?> LoadCursorAsync(string service, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await CursorRows.LoadAsync(connection, tables, service, ct);
    }

    /// <summary>
    /// Applies <paramref name="events"/> in order and sets the cursor of <paramref name="service"/> (none when null:
    /// a release of held commits); one transaction, which also carries <paramref name="repos"/> (repository states and
    /// held frames, Repos/). <paramref name="handles"/> are the authors' handles the verify stage resolved (new phpBB
    /// users are named from them).
    /// </summary>
    public async Task<BatchOutcome> ApplyAsync(string service, IReadOnlyList<StreamEvent> events, IReadOnlyDictionary<string, string?> handles,
        long? cursor, long now, CancellationToken ct, Repos.RepoWrites? repos = null)
    {
        var outcome = new BatchOutcome();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Posts the Firehose writes came from the network: the outbox triggers must not publish them back.
        await OutboxOrigin.MarkSessionAsync(connection, OutboxOrigin.Firehose, ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var session = new ForumSession(connection, transaction, tables);
        var applier = new EventApplier(session, identity.LabelerDid, handles, outcome);
        foreach (var streamEvent in events)
        {
            await applier.ApplyAsync(streamEvent, ct);
        }
        if (repos is not null) await repos.WriteAsync(connection, transaction, tables, now, ct);
        if (cursor is { } position) await CursorRows.SaveAsync(session, service, position, now, ct);
        await transaction.CommitAsync(ct);
        return outcome;
    }
}
