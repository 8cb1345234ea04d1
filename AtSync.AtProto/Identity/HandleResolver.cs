using System.Net;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

/// <summary>Whether a DID document's handle resolves back to the DID.</summary>
public enum HandleStatus
{
    /// <summary>The handle's DNS TXT <c>_atproto</c> record or its <c>/.well-known/atproto-did</c> names the DID.</summary>
    Verified,

    /// <summary>The document claims no handle (or only <c>handle.invalid</c>).</summary>
    NotClaimed,

    /// <summary>The handle resolves to another DID, or to none: it is not this DID's to show.</summary>
    NotResolvingBack,

    /// <summary>Neither method answered (DNS and HTTPS both failed or timed out): no verdict now.</summary>
    Unavailable,
}

/// <summary>The handle check of one DID document: the claimed handle, the verdict and the method that decided it (<c>dns</c>, <c>https</c>).</summary>
public sealed record HandleVerdict(Did Did, Handle? Claimed, HandleStatus Status, string? Method = null)
{
    /// <summary>The handle to show: the claimed one only when verified.</summary>
    public Handle? Verified => Status == HandleStatus.Verified ? Claimed : null;
}

/// <summary>
/// Handle → DID by the atproto handle methods: DNS TXT <c>_atproto.&lt;handle&gt;</c> (<c>did=…</c>, exactly one) first,
/// then HTTPS <c>https://&lt;handle&gt;/.well-known/atproto-did</c> (the DID as text, at most <see cref="MaxWellKnownBytes"/>),
/// both bounded in time; the HTTPS fetch goes through the same guarded client as DID documents
/// (<see cref="IdentityHttpHandler"/>: no redirects, no private addresses). <see cref="VerifyAsync"/> checks a DID
/// document's claimed handle both ways.
/// </summary>
public sealed class HandleResolver(HttpClient http, IdentityDns dns, IdentityNetworkOptions options)
{
    public const int MaxWellKnownBytes = 2048;
    public const string WellKnownPath = "/.well-known/atproto-did";

    /// <summary>Checks that <paramref name="document"/>'s handle resolves back to its DID.</summary>
    public async Task<HandleVerdict> VerifyAsync(DidDocument document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Handle is not { } claimed || claimed.Value == "handle.invalid")
        {
            return new HandleVerdict(document.Id, null, HandleStatus.NotClaimed);
        }
        var byDns = await DnsAsync(claimed, cancellationToken).ConfigureAwait(false);
        if (byDns.Did is { } dnsDid)
        {
            return new HandleVerdict(document.Id, claimed, dnsDid == document.Id ? HandleStatus.Verified : HandleStatus.NotResolvingBack, "dns");
        }
        var byHttps = await WellKnownAsync(claimed, cancellationToken).ConfigureAwait(false);
        if (byHttps.Did is { } httpsDid)
        {
            return new HandleVerdict(document.Id, claimed, httpsDid == document.Id ? HandleStatus.Verified : HandleStatus.NotResolvingBack, "https");
        }
        return new HandleVerdict(document.Id, claimed, byDns.Unavailable && byHttps.Unavailable ? HandleStatus.Unavailable : HandleStatus.NotResolvingBack);
    }

    /// <summary>The DID of <paramref name="handle"/>, by DNS then HTTPS; null when neither names one.</summary>
    public async Task<Did?> ResolveAsync(Handle handle, CancellationToken cancellationToken = default)
    {
        var byDns = await DnsAsync(handle, cancellationToken).ConfigureAwait(false);
        return byDns.Did ?? (await WellKnownAsync(handle, cancellationToken).ConfigureAwait(false)).Did;
    }

    /// <summary>The one <c>did=</c> TXT value at <c>_atproto.&lt;handle&gt;</c> (several different ones: none).</summary>
    public async Task<Answer> DnsAsync(Handle handle, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> records;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.FetchTimeout);
            records = await dns.TxtAsync("_atproto." + handle.Value, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DnsClient.DnsResponseException or System.Net.Sockets.SocketException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Answer.NotAvailable;
        }
        var dids = records.Where(r => r.StartsWith("did=", StringComparison.Ordinal))
            .Select(r => Did.TryParse(r[4..].Trim(), out var did) ? did : (Did?)null)
            .Distinct()
            .ToList();
        return dids is [{ } one] ? new Answer(one, false) : Answer.None;
    }

    /// <summary>The DID served at the handle's <c>/.well-known/atproto-did</c>.</summary>
    public async Task<Answer> WellKnownAsync(Handle handle, CancellationToken cancellationToken = default)
    {
        var url = options.PlainHttpPort is { } port
            ? new Uri($"http://{handle.Value}:{port}{WellKnownPath}")
            : new Uri($"https://{handle.Value}{WellKnownPath}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests) return Answer.NotAvailable;
            if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentLength > MaxWellKnownBytes) return Answer.None;
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxWellKnownBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }
            if (length > MaxWellKnownBytes) return Answer.None;
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, length).Trim();
            return Did.TryParse(text, out var did) ? new Answer(did, false) : Answer.None;
        }
        catch (HttpRequestException ex) when (IdentityHttpHandler.IsRefusal(ex))
        {
            // The handle's host is loopback or private: it is not asked, and that is an answer (no DID).
            return Answer.None;
        }
        catch (HttpRequestException)
        {
            return Answer.NotAvailable;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Answer.NotAvailable;
        }
        catch (IOException)
        {
            return Answer.NotAvailable;
        }
    }

    /// <summary>What one method answered: a DID, no DID, or nothing (failed or timed out).</summary>
    public readonly record struct Answer(Did? Did, bool Unavailable)
    {
        public static Answer None => new(null, false);
        public static Answer NotAvailable => new(null, true);
    }
}
