using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PublicKey = AtSync.AtProto.Crypto.PublicKey;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AtSync.Tests.Firehose;

/// <summary>How a <see cref="LoopbackDidWebHost"/> answers <c>/.well-known/did.json</c>.</summary>
public enum DidWebBehavior
{
    /// <summary>Serves the DID document (Multikey <c>#atproto</c>) over TLS with a certificate the client trusts.</summary>
    Serve,

    /// <summary>Accepts the connection and the request, then never answers.</summary>
    Hang,

    /// <summary>Answers 500.</summary>
    Fail,

    /// <summary>Presents a certificate for another name, signed by nobody the client trusts: the handshake fails.</summary>
    BrokenTls,
}

/// <summary>
/// A <c>did:web</c> host on Kestrel at <c>https://localhost:port</c> (real TLS): its DID is
/// <c>did:web:localhost%3A{port}</c>. The client trusts <see cref="TrustedCertificatePem"/> (pass it to a process as
/// <c>SSL_CERT_FILE</c>); <see cref="Behavior"/> switches between serving, hanging, failing and broken TLS at any time.
/// </summary>
public sealed class LoopbackDidWebHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _good;
    private readonly X509Certificate2 _broken;
    private int _requests;

    private LoopbackDidWebHost(WebApplication app, int port, X509Certificate2 good, X509Certificate2 broken, PublicKey key)
    {
        _app = app;
        _good = good;
        _broken = broken;
        Port = port;
        Key = key;
    }

    public int Port { get; }

    public string Did => $"did:web:localhost%3A{Port}";

    public PublicKey Key { get; }

    public volatile DidWebBehavior Behavior;

    /// <summary>Requests that reached the HTTP layer (a broken handshake never does).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// The certificate of the good TLS endpoint, PEM ending in a newline so that several can be concatenated into one
    /// trust file (self-signed for <c>localhost</c>; its subject names the port, as a chain is built by subject name and
    /// the first trusted certificate with the issuer's name is the only one tried).
    /// </summary>
    public string TrustedCertificatePem => _good.ExportCertificatePem() + "\n";

    public static async Task<LoopbackDidWebHost> StartAsync(PublicKey key, int port, DidWebBehavior behavior)
    {
        var good = SelfSigned("localhost", $"CN=localhost, OU=AtSync test did:web host {port}");
        var broken = SelfSigned("not-this-host.invalid", "CN=not-this-host.invalid");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        LoopbackDidWebHost? self = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
            https.ServerCertificateSelector = (_, _) => self!.Behavior == DidWebBehavior.BrokenTls ? self._broken : self._good)));
        var app = builder.Build();
        app.Run(async context =>
        {
            Interlocked.Increment(ref self!._requests);
            switch (self.Behavior)
            {
                case DidWebBehavior.Hang:
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                case DidWebBehavior.Fail:
                    context.Response.StatusCode = 500;
                    return;
            }
            if (context.Request.Path != "/.well-known/did.json")
            {
                context.Response.StatusCode = 404;
                return;
            }
            var did = self.Did;
            var document = new Dictionary<string, object>
            {
                ["id"] = did,
                ["verificationMethod"] = new[] { new { id = did + "#atproto", type = "Multikey", controller = did, publicKeyMultibase = self.Key.ToMultikey() } },
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(document));
        });
        self = new LoopbackDidWebHost(app, port, good, broken, key) { Behavior = behavior };
        await app.StartAsync();
        return self;
    }

    private static X509Certificate2 SelfSigned(string name, string subject)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        // Kestrel needs a key it can use for the handshake: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _good.Dispose();
        _broken.Dispose();
    }
}
