using AtSync.AtProto.Syntax;
using Microsoft.Extensions.Time.Testing;

namespace AtSync.Tests.AtProto;

public sealed class SyntaxTests
{
    [Fact]
    public void Did_exposes_method_and_identifier()
    {
        var did = Did.Parse("did:plc:7iza6de2dwap2sbkpav7c6c6");
        Assert.Equal("plc", did.Method);
        Assert.Equal("7iza6de2dwap2sbkpav7c6c6", did.Identifier);
        Assert.True(did.IsPlc);
        Assert.False(did.IsWeb);
        Assert.Equal("did:web:localhost%3A1234", Did.Parse("did:web:localhost%3A1234").Value);
        Assert.Equal("web", Did.Parse("did:web:example.com").Method);
        Assert.False(Did.TryParse(null, out _));
    }

    [Fact]
    public void Handle_is_normalized_to_lowercase()
    {
        Assert.Equal("xx.lcs.mit.edu", Handle.Parse("XX.LCS.MIT.EDU").Value);
        Assert.Equal(Handle.Parse("Alice.Test"), Handle.Parse("alice.test"));
    }

    [Fact]
    public void Nsid_splits_authority_and_name()
    {
        var nsid = Nsid.Parse("com.atproto.repo.createRecord");
        Assert.Equal("com.atproto.repo", nsid.Authority);
        Assert.Equal("createRecord", nsid.Name);
    }

    [Theory]
    [InlineData("at://did:plc:asdf123/com.atproto.feed.post/3jzfcijpj2z2a", "did:plc:asdf123", "com.atproto.feed.post", "3jzfcijpj2z2a")]
    [InlineData("at://did:plc:asdf123/com.atproto.feed.post", "did:plc:asdf123", "com.atproto.feed.post", null)]
    [InlineData("at://user.bsky.social", "user.bsky.social", null, null)]
    [InlineData("at://did:abc:123/io.nsid.someFunc/lang:", "did:abc:123", "io.nsid.someFunc", "lang:")]
    public void AtUri_parts(string uri, string authority, string? collection, string? rkey)
    {
        var parsed = AtUri.Parse(uri);
        Assert.Equal(uri, parsed.Value);
        Assert.Equal(authority, parsed.Authority);
        Assert.Equal(authority.StartsWith("did:"), parsed.AuthorityDid is not null);
        Assert.Equal(collection, parsed.Collection?.Value);
        Assert.Equal(rkey, parsed.RecordKey?.Value);
    }

    [Fact]
    public void AtUri_create_round_trips()
    {
        var uri = AtUri.Create(Did.Parse("did:plc:u1"), Nsid.Parse("net.vza.forum.post"), RecordKey.Parse("3l4abc"));
        Assert.Equal("at://did:plc:u1/net.vza.forum.post/3l4abc", uri.Value);
        Assert.Equal(uri, AtUri.Parse(uri.Value));
    }

    [Fact]
    public void Tid_decodes_timestamp_and_clock_id_and_round_trips()
    {
        // 2023-03-07T23:51:26.000Z in µs = 1678233086000000, clock id 5.
        var tid = Tid.FromParts(1678233086000000, 5);
        var text = tid.ToString();
        Assert.Equal(13, text.Length);
        Assert.True(Tid.IsValid(text));
        var back = Tid.Parse(text);
        Assert.Equal(tid, back);
        Assert.Equal(1678233086000000, back.TimestampMicroseconds);
        Assert.Equal(5, back.ClockId);
        Assert.Equal(new DateTimeOffset(2023, 3, 7, 23, 51, 26, TimeSpan.Zero), back.Timestamp);

        var fixture = Tid.Parse("3jzfcijpj2z2a");
        Assert.Equal("3jzfcijpj2z2a", fixture.ToString());
        Assert.Equal(Tid.FromParts(fixture.TimestampMicroseconds, fixture.ClockId), fixture);
        Assert.Equal("2222222222222", Tid.FromParts(0, 0).ToString());
        // Top bit always 0: the largest TID starts with 'b' (value 7 of the first character's 4 bits).
        Assert.Equal("bzzzzzzzzzzzz", Tid.FromParts((1L << 53) - 1, 1023).ToString());
    }

    [Fact]
    public void Tid_order_matches_string_order()
    {
        var a = Tid.FromParts(1_000_000, 1023);
        var b = Tid.FromParts(1_000_001, 0);
        Assert.True(a < b);
        Assert.True(string.CompareOrdinal(a.ToString(), b.ToString()) < 0);
    }

    [Fact]
    public void Tid_generator_is_monotonic_even_when_the_clock_stalls_or_steps_back()
    {
        var start = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
        var time = new SettableClock { Now = start };
        var gen = new TidGenerator(time, clockId: 42);
        var t1 = gen.Next();
        var t2 = gen.Next(); // clock unchanged
        time.Now = start.AddSeconds(-10); // clock steps back
        var t3 = gen.Next();
        time.Now = start.AddMinutes(1);
        var t4 = gen.Next();

        Assert.Equal(start, t1.Timestamp);
        Assert.True(t1 < t2 && t2 < t3 && t3 < t4);
        Assert.Equal(t1.TimestampMicroseconds + 1, t2.TimestampMicroseconds);
        Assert.Equal(t2.TimestampMicroseconds + 1, t3.TimestampMicroseconds);
        Assert.Equal(start.AddMinutes(1), t4.Timestamp);
        Assert.All(new[] { t1, t2, t3, t4 }, t => Assert.Equal(42, t.ClockId));
        Assert.All(new[] { t1, t2, t3, t4 }, t => Assert.True(Tid.IsValid(t.ToString())));
    }

    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Tid_generator_gives_unique_values_across_threads()
    {
        var gen = new TidGenerator(new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(50)));
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Enumerable.Range(0, 1000).Select(_ => gen.Next()).ToArray())));
        var all = results.SelectMany(r => r).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Theory]
    [InlineData("1985-04-12T23:20:50.123Z", "1985-04-12T23:20:50.1230000+00:00")]
    [InlineData("1985-04-12T23:20:50.123-07:00", "1985-04-12T23:20:50.1230000-07:00")]
    [InlineData("1985-04-12T23:20:50.1235678912345Z", "1985-04-12T23:20:50.1235678+00:00")]
    [InlineData("1985-04-12T23:20:50Z", "1985-04-12T23:20:50.0000000+00:00")]
    public void Datetime_parses_to_DateTimeOffset(string text, string roundTrip)
    {
        Assert.Equal(roundTrip, AtDateTime.Parse(text).ToString("o"));
    }

    [Fact]
    public void Datetime_year_zero_is_valid_syntax_but_not_representable()
    {
        Assert.True(AtDateTime.IsValid("0000-01-01T00:00:00.000Z"));
        Assert.False(AtDateTime.TryParse("0000-01-01T00:00:00.000Z", out _));
        Assert.False(AtDateTime.IsValid("1985-02-29T00:00:00Z"));
        Assert.True(AtDateTime.IsValid("1984-02-29T00:00:00Z"));
    }

    [Fact]
    public void Datetime_format_is_the_preferred_form()
    {
        var value = new DateTimeOffset(2026, 11, 23, 10, 15, 30, 456, TimeSpan.FromHours(2));
        var text = AtDateTime.Format(value);
        Assert.Equal("2026-11-23T08:15:30.456Z", text);
        Assert.True(AtDateTime.IsValid(text));
    }
}
