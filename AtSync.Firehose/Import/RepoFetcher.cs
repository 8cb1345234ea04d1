using System.Diagnostics;
using System.Net;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Sync;
using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Options;

namespace AtSync.Firehose.Import;

/// <summary>
/// Fetches a repository from its own PDS and verifies it: the DID document (the Firehose's <see cref="IDidResolver"/>)
/// names the PDS and the signing key; <c>com.atproto.sync.getRepo</c> is read through an HTTP client that refuses
/// non-public addresses and redirects (<see cref="IdentityHttpHandler"/>), streamed into a buffer that never grows past
/// <see cref="ImportOptions.MaxCarBytes"/>, within <see cref="ImportOptions.FetchTimeout"/>; then
/// <see cref="RepositoryCar"/> checks every hash, the signature and the whole tree. A signature that fails with a cached
/// document is checked once more with a fresh one (the key may have rotated).
/// </summary>
public sealed class RepoFetcher(RepoHttpClient http, IDidResolver resolver, IOptions<ImportOptions> options)
{
    public async Task<FetchedRepository> FetchAsync(string did, CancellationToken cancellationToken)
    {
        if (!Did.TryParse(did, out var parsed)) return FetchedRepository.Failed(ImportFailures.InvalidDid);
        var started = Stopwatch.GetTimestamp();
        DidDocument document;
        try
        {
            document = await resolver.ResolveAsync(parsed, cancellationToken);
        }
        catch (DidResolutionException ex)
        {
            return FetchedRepository.Failed(ex.IsTransient ? ImportFailures.DirectoryUnavailable : ImportFailures.DidUnresolved);
        }
        if (document.PdsEndpoint is not { } pds) return FetchedRepository.Failed(ImportFailures.NoPds);

        var settings = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.FetchTimeout);
        var download = await DownloadAsync(pds, did, settings.MaxCarBytes, timeout.Token, cancellationToken);
        if (download.Failure is not null) return FetchedRepository.Failed(download.Failure, download.Bytes.Length);

        var downloaded = Stopwatch.GetTimestamp();
        var readOptions = RepoReadOptions.Default with { MaxCarLength = settings.MaxCarBytes };
        var rejection = Verify(download.Bytes, did, document.SigningKey, readOptions, out var repository);
        if (rejection == RepoRejection.BadSignature)
        {
            try
            {
                var fresh = await resolver.RefreshAsync(parsed, cancellationToken);
                rejection = Verify(download.Bytes, did, fresh.SigningKey, readOptions, out repository);
                document = fresh;
            }
            catch (DidResolutionException)
            {
                // The refresh failed: the verdict with the document we had stands.
            }
        }
        if (rejection == RepoRejection.BadSignature && document.SigningKey is null) return FetchedRepository.Failed(ImportFailures.NoSigningKey, download.Bytes.Length);
        var timings = new FetchedRepository(null, null, 0)
        {
            DownloadTime = Stopwatch.GetElapsedTime(started, downloaded),
            VerifyTime = Stopwatch.GetElapsedTime(downloaded),
        };
        return rejection == RepoRejection.None
            ? timings with { Repository = repository, Bytes = download.Bytes.Length }
            : timings with { Failure = ImportFailures.Car(rejection), Bytes = download.Bytes.Length };
    }

    private static RepoRejection Verify(byte[] bytes, string did, PublicKey? key, RepoReadOptions readOptions, out RepositoryCar? repository) =>
        RepositoryCar.TryRead(bytes, did, key, out repository, readOptions);

    private readonly record struct Download(byte[] Bytes, string? Failure);

    private async Task<Download> DownloadAsync(Uri pds, string did, int maxBytes, CancellationToken timeout, CancellationToken stopping)
    {
        var url = new Uri(pds, $"/xrpc/com.atproto.sync.getRepo?did={Uri.EscapeDataString(did)}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/vnd.ipld.car");
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.Gone)
            {
                // getRepo answers 400 RepoNotFound / RepoTakendown / RepoDeactivated: no repository to import.
                return new Download([], ImportFailures.RepoNotFound);
            }
            if (!response.IsSuccessStatusCode) return new Download([], ImportFailures.PdsStatus((int)response.StatusCode));
            if (response.Content.Headers.ContentLength is { } declared && declared > maxBytes) return new Download([], ImportFailures.CarTooLarge);
            await using var body = await response.Content.ReadAsStreamAsync(timeout);
            return await BoundedBody.ReadAsync(body, response.Content.Headers.ContentLength, maxBytes, timeout) is { } bytes
                ? new Download(bytes, null)
                : new Download([], ImportFailures.CarTooLarge);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return new Download([], ImportFailures.PdsTimeout);
        }
        catch (HttpRequestException)
        {
            return new Download([], ImportFailures.PdsUnreachable);
        }
        catch (IOException)
        {
            return new Download([], ImportFailures.PdsUnreachable);
        }
    }
}

/// <summary>The HTTP client repository downloads use (one per process; no retry pipeline, no overall timeout: each fetch has its own).</summary>
public sealed class RepoHttpClient(HttpClient client) : IDisposable
{
    public HttpClient Client { get; } = client;

    public static RepoHttpClient Create(IReadOnlyCollection<string> allowedHosts) =>
        new(new HttpClient(IdentityHttpHandler.Create(allowedHosts, TimeSpan.FromSeconds(10))) { Timeout = Timeout.InfiniteTimeSpan });

    public void Dispose() => Client.Dispose();
}
