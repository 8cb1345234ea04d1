using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.Testing.Synthetic;

namespace AtSync.Tests.AtProto;

/// <summary>
/// Label signatures over the label's DAG-CBOR without <c>sig</c>, as received: a real signed label, labels this
/// repository's loopback labeler signs, and each way a label can fail.
/// </summary>
public sealed class LabelSignatureTests
{
    /// <summary>
    /// A label signed by a production labeler (did:plc:n3timvoib5nau7gvwd6cshap) and its <c>#atproto_label</c> key,
    /// as published in bluesky-social/indigo's <c>atproto/labeling/label_test.go</c> (TestVerifyLabel).
    /// </summary>
    private static Label RealLabel() => new()
    {
        Ver = 1,
        Src = "did:plc:n3timvoib5nau7gvwd6cshap",
        Uri = "did:plc:44ybard66vv44zksje25o7dz",
        Val = "bladerunner",
        Cts = "2024-10-23T17:51:19.128Z",
        Sig = Convert.FromBase64String("uCRNA5mTzh078T5xZtkvLEt/O+z0gsKM3aqRI/lVAB8ZtbMnznwS/JwHopZE40JhNNDj80z8gsDLAp/hWqG5Pg=="),
    };

    private static readonly PublicKey RealLabelerKey = PublicKey.ParseMultikey("zQ3shcnfWLQN1bY4d2patsEAYFzy4xp1zdckEvHsV7S4ocTnC");

    /// <summary>The label as the Firehose sees it: inside a #labels frame, decoded.</summary>
    private static Label Received(Label label) =>
        Assert.IsType<LabelsEvent>(FrameDecoder.DecodeLabelFrame(FrameEncoder.Encode(new LabelsEvent { Seq = 1, Labels = [label] }))).Labels.Single();

    [Fact]
    public void A_real_labelers_signed_label_verifies_with_its_label_key()
    {
        Assert.Equal(LabelSignatureStatus.Valid, LabelSignature.Check(Received(RealLabel()), RealLabelerKey));
    }

    [Fact]
    public void The_real_label_changed_in_any_field_does_not_verify()
    {
        foreach (var changed in new[]
        {
            RealLabel() with { Val = "wrong" },
            RealLabel() with { Uri = "did:plc:44ybard66vv44zksje25o7dy" },
            RealLabel() with { Neg = true },
            RealLabel() with { Exp = "2030-01-01T00:00:00.000Z" },
            RealLabel() with { Ver = 2 },
        })
        {
            Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(Received(changed), RealLabelerKey));
        }
    }

    [Fact]
    public void Unsigned_wrong_key_and_malformed_signatures_are_told_apart()
    {
        Assert.Equal(LabelSignatureStatus.Unsigned, LabelSignature.Check(Received(RealLabel() with { Sig = null }), RealLabelerKey));
        using var other = SigningKey.Generate(KeyCurve.Secp256k1);
        Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(Received(RealLabel()), other.PublicKey));
        Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(Received(RealLabel() with { Sig = new byte[64] }), RealLabelerKey));
        Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(Received(RealLabel() with { Sig = new byte[] { 1, 2, 3 } }), RealLabelerKey));
        // A label built in code (never received) has no bytes to check.
        Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(RealLabel(), RealLabelerKey));
    }

    [Theory]
    [InlineData(KeyCurve.P256)]
    [InlineData(KeyCurve.Secp256k1)]
    public void Labels_signed_by_the_loopback_labeler_verify_with_its_key_only(KeyCurve curve)
    {
        using var key = SigningKey.Generate(curve);
        using var other = SigningKey.Generate(curve);
        var label = new Label
        {
            Ver = 1, Src = "did:plc:labelerlabelerlabelerlab", Uri = "at://did:plc:aliceaaaaaaaaaaaaaaaaaaa/net.vza.forum.post/3kx",
            Cid = "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy", Val = "!hide", Neg = true,
            Cts = "2026-07-04T15:00:00.000Z", Exp = "2026-07-05T15:00:00.000Z",
        };
        var signed = Received(ForumFrameFactory.Sign(label, key));
        Assert.Equal(LabelSignatureStatus.Valid, LabelSignature.Check(signed, key.PublicKey));
        Assert.Equal(LabelSignatureStatus.Invalid, LabelSignature.Check(signed, other.PublicKey));
        // The bytes checked are the label's own encoding without `sig`: what the labeler signed.
        Assert.Equal(FrameEncoder.EncodeLabel(label), signed.UnsignedBytes.ToArray());
    }
}
