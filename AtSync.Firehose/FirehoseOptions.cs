using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace AtSync.Firehose;

/// <summary>
/// Tuning of the Firehose (section <c>Firehose</c>, e.g. <c>Firehose__BatchSize</c>); every value has a production
/// default. <see cref="Source"/> (<c>FIREHOSE_SOURCE</c>) chooses where repository events come from; <see cref="ReplayFile"/>
/// (<c>FIREHOSE_REPLAY_FILE</c>) names the capture file (and alone also selects it).
/// </summary>
public sealed class FirehoseOptions
{
    public const string Section = "Firehose";
    public const string ReplayFileSetting = "FIREHOSE_REPLAY_FILE";
    public const string SourceSetting = "FIREHOSE_SOURCE";

    /// <summary>The repository event source: the relay (default), a Jetstream (<c>Ingest/Jetstream/</c>), or a capture file.</summary>
    public FirehoseSource Source { get; set; } = FirehoseSource.Relay;

    /// <summary>Frames buffered between the socket and the database writer.</summary>
    [Range(1, 100_000)]
    public int ChannelCapacity { get; set; } = 2048;

    /// <summary>
    /// Bytes of frames buffered between the socket and the database writer, at most (with <see cref="ChannelCapacity"/>):
    /// memory stays bounded however large the frames are. A single larger frame still passes, alone.
    /// </summary>
    [Range(64 * 1024, long.MaxValue)]
    public long ChannelMaxBytes { get; set; } = 48L * 1024 * 1024;

    /// <summary>Events per database transaction, at most.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>Frame bytes of the forum events one transaction holds, at most (with <see cref="BatchSize"/>).</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long BatchMaxBytes { get; set; } = 24L * 1024 * 1024;

    /// <summary>How long a batch may wait for more events before it is committed.</summary>
    public TimeSpan BatchMaxDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>No message for this long: the relay is considered stalled and the socket is reopened.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A connection that delivered messages for this long resets the reconnect backoff.</summary>
    public TimeSpan StableConnection { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A message larger than this is discarded (and counted as a decode error) instead of buffered.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Health: unhealthy when no message arrived for this long.</summary>
    public TimeSpan MessageStaleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Health: unhealthy when the cursor was not saved for this long (alert threshold of docs/design.md).</summary>
    public TimeSpan CursorStaleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Read events from this capture file instead of the relay (<c>[uint32 LE length][frame]…</c>, optionally zstd).</summary>
    [ConfigurationKeyName(ReplayFileSetting)]
    public string? ReplayFile { get; set; }

    /// <summary>How often posts hidden by an expired <c>!hide</c> label are made visible again.</summary>
    public TimeSpan LabelExpirySweep { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether to consume the labeler's subscribeLabels stream.</summary>
    public bool LabelsEnabled { get; set; } = true;

    /// <summary>
    /// Whether commits carrying forum ops must be signed by their repo's <c>#atproto</c> key (DID document from the PLC
    /// directory) to be applied; unverifiable ones are skipped and counted.
    /// </summary>
    public bool VerifySignatures { get; set; } = true;

    /// <summary>
    /// How long the verify stage waits for the signing keys of a batch's authors. An author whose key does not come in
    /// time is parked (its commit held, Repos/) instead of delaying the others: keep it at most
    /// <see cref="BatchMaxDelay"/>, so one author's slow host delays everyone else by at most one batch interval.
    /// </summary>
    public TimeSpan KeyDeadline { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The deadline for keys when the releaser re-verifies a parked repository's held commits.</summary>
    public TimeSpan ReleaseKeyDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A parked repository is retried after this long, doubling up to <see cref="ParkedRetryMax"/>.</summary>
    public TimeSpan ParkedRetryFirst { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan ParkedRetryMax { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>After this many failed retries a parked repository's held commits are dropped (reason kept, counted).</summary>
    [Range(1, 10_000)]
    public int ParkedMaxAttempts { get; set; } = 30;

    /// <summary>…or once its oldest held commit is this old.</summary>
    public TimeSpan ParkedMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Commits one repository may have waiting (parked, behind an import, desynchronized); past it a commit is dropped,
    /// counted as <c>held_over_limit</c>, and the repository is desynchronized, so an import repairs it: an author whose
    /// key never resolves cannot fill the database.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxHeldPerRepo { get; set; } = 1000;

    /// <summary>Frame bytes one release reads at most (with 500 frames): releasing never loads more than this at once.</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long ReleaseMaxBytes { get; set; } = 24L * 1024 * 1024;

    /// <summary>How often the releaser looks for parked repositories that are due and active ones with held commits.</summary>
    public TimeSpan ReleasePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Health: unhealthy when frames have been waiting this long without the cursor moving.</summary>
    public TimeSpan CursorStuckAfter { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary><c>FIREHOSE_SOURCE</c>: <c>relay</c>, <c>jetstream</c> or <c>file</c>.</summary>
public enum FirehoseSource
{
    /// <summary>The relay's <c>com.atproto.sync.subscribeRepos</c> (<c>RELAY_URL</c>): every commit signed, the whole network.</summary>
    Relay,

    /// <summary>A Jetstream's <c>/subscribe</c> (<c>JETSTREAM_URL</c>) filtered to <c>net.vza.forum.*</c>; each record proven by its author's PDS.</summary>
    Jetstream,

    /// <summary>A capture file (<c>FIREHOSE_REPLAY_FILE</c>).</summary>
    File,
}
