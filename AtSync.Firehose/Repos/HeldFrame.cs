namespace AtSync.Firehose.Repos;

/// <summary>
/// One row of <c>atproto_held_commits</c>: a raw frame waiting for its repository, in stream order, in its
/// <see cref="AtSync.Core.Sync.HeldFormats"/> (a relay frame or a Jetstream event).
/// </summary>
public sealed record HeldFrame(string Did, long Seq, string Stream, byte[] Frame, long HeldAt, string Format = AtSync.Core.Sync.HeldFormats.Relay);
