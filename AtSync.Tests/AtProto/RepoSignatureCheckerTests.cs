using System.Text.Json.Nodes;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.AtProto;

/// <summary>Commit signatures checked with keys from a loopback PLC directory whose documents the test controls.</summary>
public sealed class RepoSignatureCheckerTests : IAsyncLifetime
{
    private static readonly Did Repo = Did.Parse("did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly SigningKey _keyA = SigningKey.Generate(KeyCurve.Secp256k1);
    private readonly SigningKey _keyB = SigningKey.Generate(KeyCurve.P256);
    private LoopbackHttpServer _plc = null!;
    private HttpClient _http = null!;
    private volatile string? _served;

    public async Task InitializeAsync()
    {
        _plc = await LoopbackHttpServer.StartAsync();
        _plc.Handler = (ctx, _) => _served is { } doc
            ? LoopbackHttpServer.Json(ctx, 200, doc)
            : LoopbackHttpServer.Json(ctx, 404, """{"message":"DID not registered"}""");
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _plc.DisposeAsync();
        _keyA.Dispose();
        _keyB.Dispose();
    }

    private static string DocWith(PublicKey? key)
    {
        var doc = new JsonObject
        {
            ["id"] = Repo.Value,
            ["alsoKnownAs"] = new JsonArray("at://alice.example.com"),
            ["service"] = new JsonArray(new JsonObject { ["id"] = "#atproto_pds", ["type"] = "AtprotoPersonalDataServer", ["serviceEndpoint"] = "https://pds.example.com" }),
        };
        if (key is not null)
        {
            doc["verificationMethod"] = new JsonArray(new JsonObject
            {
                ["id"] = Repo.Value + "#atproto", ["type"] = "Multikey", ["controller"] = Repo.Value, ["publicKeyMultibase"] = key.ToMultikey(),
            });
        }
        return doc.ToJsonString();
    }

    private RepoSignatureChecker Checker() =>
        new(new DidResolver(_http, new DidResolverOptions { PlcDirectory = _plc.BaseUri }, _time), timeProvider: _time);

    private static readonly byte[] Commit = "unsigned commit: did, version 3, data, rev, prev"u8.ToArray();

    [Fact]
    public async Task Valid_signature_verifies_with_one_lookup()
    {
        _served = DocWith(_keyA.PublicKey);
        var checker = Checker();

        var first = await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));
        var second = await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));

        Assert.Equal(CommitSignatureStatus.Valid, first.Status);
        Assert.True(second.IsValid);
        Assert.Equal("alice.example.com", first.Document?.Handle?.Value);
        Assert.Single(_plc.Requests);
    }

    [Fact]
    public async Task Rotated_key_is_picked_up_by_refetching_the_document()
    {
        _served = DocWith(_keyA.PublicKey);
        var checker = Checker();
        Assert.True((await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit))).IsValid);

        _served = DocWith(_keyB.PublicKey); // the account rotated its signing key
        var afterRotation = await checker.CheckAsync(Repo, Commit, _keyB.Sign(Commit));

        Assert.Equal(CommitSignatureStatus.Valid, afterRotation.Status);
        Assert.Equal(_keyB.PublicKey, afterRotation.Document?.SigningKey);
        Assert.Equal(2, _plc.Requests.Count);
    }

    [Fact]
    public async Task Bad_signatures_refetch_at_most_once_per_interval()
    {
        _served = DocWith(_keyA.PublicKey);
        var checker = Checker();
        var forged = _keyB.Sign(Commit);

        Assert.Equal(CommitSignatureStatus.Invalid, (await checker.CheckAsync(Repo, Commit, forged)).Status);
        Assert.Equal(2, _plc.Requests.Count); // first lookup + one refresh
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(CommitSignatureStatus.Invalid, (await checker.CheckAsync(Repo, Commit, forged)).Status);
        }
        Assert.Equal(2, _plc.Requests.Count);

        _time.Advance(checker.MinRefreshInterval + TimeSpan.FromSeconds(1));
        Assert.Equal(CommitSignatureStatus.Invalid, (await checker.CheckAsync(Repo, Commit, forged)).Status);
        Assert.Equal(3, _plc.Requests.Count);

        // A high-S twin of a genuine signature is also refused.
        var highS = LowS.ToHighS(KeyCurve.Secp256k1, _keyA.Sign(Commit));
        Assert.Equal(CommitSignatureStatus.Invalid, (await checker.CheckAsync(Repo, Commit, highS)).Status);
    }

    [Fact]
    public async Task Missing_key_and_unknown_did_are_reported()
    {
        var checker = Checker();
        var unresolved = await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));
        Assert.Equal(CommitSignatureStatus.Unresolved, unresolved.Status);
        Assert.Equal(DidResolutionError.NotFound, unresolved.ResolutionError);

        _served = DocWith(null);
        var noKey = await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));
        Assert.Equal(CommitSignatureStatus.NoSigningKey, noKey.Status);
        Assert.NotNull(noKey.Document);
    }

    [Fact]
    public async Task Identity_change_drops_the_cached_document()
    {
        _served = DocWith(_keyA.PublicKey);
        var checker = Checker();
        await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));

        checker.IdentityChanged(Repo);
        await checker.CheckAsync(Repo, Commit, _keyA.Sign(Commit));

        Assert.Equal(2, _plc.Requests.Count);
    }
}
