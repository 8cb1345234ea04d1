using AtSync.Core.Settings;
using AtSync.Firehose.Apply;
using AtSync.Firehose.Events;
using AtSync.Firehose.Ingest;
using AtSync.Firehose.Ingest.Jetstream;
using AtSync.Firehose.Processing;
using AtSync.Firehose.Verify;
using AtSync.Firehose.Verify.Jetstream;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose;

/// <summary>
/// Builds the Firehose's two streams: the repository events (<c>firehose</c>: the relay's subscribeRepos or a capture
/// file; <c>jetstream</c>: a Jetstream's /subscribe, its own cursor row since its cursor is in µs) and <c>labels</c> (the
/// labeler's subscribeLabels). Each has its own state (health), cursor row and processor.
/// </summary>
public sealed class FirehoseStreams(
    IOptions<FirehoseOptions> firehoseOptions,
    IOptions<NetworkOptions> networkOptions,
    BatchVerifier verifier,
    JetstreamBatchVerifier jetstreamVerifier,
    IOptions<JetstreamOptions> jetstreamOptions,
    BatchWriter writer,
    IStreamDecoder decoder,
    FirehoseMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers)
{
    public const string RepoService = "firehose";
    public const string LabelService = "labels";
    public const string JetstreamService = "jetstream";
    public const string SubscribeReposPath = "/xrpc/com.atproto.sync.subscribeRepos";
    public const string SubscribeLabelsPath = "/xrpc/com.atproto.label.subscribeLabels";

    public StreamState Repo { get; } = new(RepoService);

    public StreamState Labels { get; } = new(LabelService);

    public FirehoseOptions Options => firehoseOptions.Value;

    public StreamProcessor CreateRepoProcessor()
    {
        var options = firehoseOptions.Value;
        if (options.Source == FirehoseSource.Jetstream) return CreateJetstreamProcessor(options);
        IFrameSource source = options.Source == FirehoseSource.Relay
            ? new WebSocketFrameSource(StreamUrl(networkOptions.Value.RelayUrl, SubscribeReposPath), Repo, options, metrics, time,
                loggers.CreateLogger<WebSocketFrameSource>())
            : new CaptureFileSource(options.ReplayFile!, Repo, options, time, loggers.CreateLogger<CaptureFileSource>(), metrics);
        return new StreamProcessor(RepoService, source, decoder.DecodeRepoFrame, verifier, writer, Repo, options, metrics, time,
            loggers.CreateLogger<StreamProcessor>());
    }

    private StreamProcessor CreateJetstreamProcessor(FirehoseOptions options)
    {
        var jetstream = jetstreamOptions.Value;
        var socket = new WebSocketFrameSource(JetstreamUrl.Subscribe(jetstream.Url, jetstream.Compress), Repo, options, metrics, time,
            loggers.CreateLogger<WebSocketFrameSource>());
        var decoder = new JetstreamEventDecoder(options.MaxMessageBytes);
        return new StreamProcessor(JetstreamService, new JetstreamSource(socket, jetstream.CursorRewind), decoder.Decode, jetstreamVerifier, writer,
            Repo, options, metrics, time, loggers.CreateLogger<StreamProcessor>(), strictOrder: false);
    }

    public StreamProcessor? CreateLabelProcessor()
    {
        var options = firehoseOptions.Value;
        if (!options.LabelsEnabled || string.IsNullOrWhiteSpace(networkOptions.Value.LabelerUrl))
        {
            Labels.NoSocketReason = "disabled"; // no socket expected: the health check does not ask for one
            return null;
        }
        var source = new WebSocketFrameSource(StreamUrl(networkOptions.Value.LabelerUrl, SubscribeLabelsPath), Labels, options, metrics, time,
            loggers.CreateLogger<WebSocketFrameSource>());
        return new StreamProcessor(LabelService, source, decoder.DecodeLabelFrame, verifier, writer, Labels, options, metrics, time,
            loggers.CreateLogger<StreamProcessor>());
    }

    /// <summary>A ws(s) URL for a stream: http(s) becomes ws(s); a bare host gets the method's XRPC path.</summary>
    public static Uri StreamUrl(string configured, string xrpcPath)
    {
        var builder = new UriBuilder(configured);
        builder.Scheme = builder.Scheme switch
        {
            "http" => "ws",
            "https" => "wss",
            _ => builder.Scheme,
        };
        if (builder.Uri.IsDefaultPort) builder.Port = -1;
        if (builder.Path is "" or "/") builder.Path = xrpcPath;
        return builder.Uri;
    }
}
