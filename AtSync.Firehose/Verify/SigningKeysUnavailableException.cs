namespace AtSync.Firehose.Verify;

/// <summary>
/// A commit's signing key cannot be had right now (directory unavailable or too slow). The batch is retried with
/// backoff, holding the stream (backpressure) rather than skipping posts; permanent outcomes (unknown or tombstoned
/// DID, no key, bad signature) are skipped instead.
/// </summary>
public sealed class SigningKeysUnavailableException(string did, string reason)
    : Exception($"Signing key of {did} unavailable: {reason}");
