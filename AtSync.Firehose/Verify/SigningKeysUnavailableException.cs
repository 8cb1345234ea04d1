namespace AtSync.Firehose.Verify;

/// <summary>
/// The labeler's <c>#atproto_label</c> key cannot be had right now (its DID document unavailable or too slow). The
/// labeler stream has one author, the configured <c>LABELER_DID</c>, so its batch is retried with backoff (holding that
/// stream, not skipping labels). Repository commits never raise this: an author whose key is unavailable is parked
/// (Repos/) and the stream moves on.
/// </summary>
public sealed class SigningKeysUnavailableException(string did, string reason)
    : Exception($"Signing key of {did} unavailable: {reason}");
