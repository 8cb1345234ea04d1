using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AtSync.Firehose.Ingest.Jetstream;

/// <summary>
/// The Jetstream source (<c>FIREHOSE_SOURCE=jetstream</c>): where it is (<c>JETSTREAM_URL</c>) and how its records are
/// checked (section <c>Jetstream</c>, e.g. <c>Jetstream__VerifyRecords</c>). Every value has a production default.
/// </summary>
public sealed class JetstreamOptions
{
    public const string Section = "Jetstream";
    public const string UrlSetting = "JETSTREAM_URL";
    public const string DefaultUrl = "wss://jetstream2.us-east.bsky.network/subscribe";

    /// <summary>The Jetstream's <c>/subscribe</c> (ws/wss, or http/https); a bare host gets the <c>/subscribe</c> path.</summary>
    [ConfigurationKeyName(UrlSetting)]
    public string Url { get; set; } = DefaultUrl;

    /// <summary>Ask for zstd frames compressed with Jetstream's published dictionary (<c>compress=true</c>).</summary>
    public bool Compress { get; set; } = true;

    /// <summary>
    /// On every reconnect the cursor (µs) is moved back this far: Jetstream's <c>time_us</c> is only roughly ordered, and
    /// its own documentation asks consumers to rewind a little. Replayed events are no-ops (record revisions).
    /// </summary>
    public TimeSpan CursorRewind { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Prove each forum create/update with <c>com.atproto.sync.getRecord</c> from its author's PDS (signed commit + MST
    /// path) and each delete by the record's absence there. Off only for operators who run their own Jetstream.
    /// </summary>
    public bool VerifyRecords { get; set; } = true;

    /// <summary>One <c>getRecord</c> request, connect to last byte.</summary>
    public TimeSpan RecordFetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest <c>getRecord</c> CAR read; a proof is a commit, a tree path and one record.</summary>
    [Range(16 * 1024, 8 * 1024 * 1024)]
    public int MaxProofBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>How many times an author's unreachable PDS is asked again (doubling from 2 s) before its events are dropped.</summary>
    [Range(0, 20)]
    public int UnavailableRetries { get; set; } = 6;

    /// <summary>At most this many events wait per author while its PDS is unreachable; more are dropped and counted.</summary>
    [Range(1, 100_000)]
    public int MaxHeldPerAuthor { get; set; } = 500;

    /// <summary>
    /// PDS host names that may resolve to loopback or private addresses (development and tests only; every other PDS
    /// must resolve to public addresses, as for identity fetches: <c>AtSync.AtProto/Identity/IdentityHttpHandler.cs</c>).
    /// </summary>
    public string[] AllowedPdsHosts { get; set; } = [];
}
