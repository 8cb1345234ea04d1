namespace AtSync.Core.Sync;

/// <summary>
/// What the bytes of an <c>atproto_held_commits</c> row are (its <c>format</c> column, migration 410), so the releaser
/// decodes each row the way its stream delivered it.
/// </summary>
public static class HeldFormats
{
    /// <summary>A relay <c>subscribeRepos</c> frame (DAG-CBOR header and body): its signed commit is verified again.</summary>
    public const string Relay = "relay";

    /// <summary>A Jetstream v1 event's JSON (decompressed): its record is proven again by the author's PDS.</summary>
    public const string Jetstream = "jetstream";
}
