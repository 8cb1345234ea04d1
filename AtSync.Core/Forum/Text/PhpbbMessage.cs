using System.Security.Cryptography;
using System.Text;

namespace AtSync.Core.Forum.Text;

/// <summary>
/// The message columns phpBB 3.3's <c>posting.php</c> and <c>submit_post</c> write for a post: <c>post_text</c> (s9e
/// XML, characters outside the BMP as references), <c>post_checksum</c> (md5 of the message as the request layer gave
/// it, escaped), <c>bbcode_uid</c> (<c>parse_message</c>'s constructor: 8 base-36 characters, kept across edits),
/// <c>bbcode_bitfield</c> (empty: phpBB 3.3's s9e parser never sets it; only the 3.0 parser did) and the switches.
/// Smilies are not parsed (<see cref="PhpbbPostXml"/>), so <c>enable_smilies</c> is 0 and phpBB's edit form reparses
/// the text the same way; magic links are parsed, so <c>enable_magic_url</c> is 1.
/// </summary>
public sealed record PhpbbMessage(string Text, string Checksum, bool EnableBbcode, bool EnableSmilies, bool EnableMagicUrl)
{
    /// <summary>phpBB's <c>BBCODE_UID_LEN</c>.</summary>
    public const int UidLength = 8;

    /// <summary>A record's BBCode as phpBB stores it when its author submits it.</summary>
    public static PhpbbMessage FromRecord(string bbcode, bool enableBbcode)
    {
        ArgumentNullException.ThrowIfNull(bbcode);
        var submitted = PhpbbRequestText.Normalize(bbcode);
        var xml = PhpbbColumnText.EncodeSupplementary(PhpbbPostXml.FromBbcode(submitted, enableBbcode));
        // posting.php: $message_md5 = md5($message_parser->message), the request variable (HTML-escaped).
        var checksum = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(PhpbbRequestText.Escape(submitted))));
        return new PhpbbMessage(xml, checksum, enableBbcode, EnableSmilies: false, EnableMagicUrl: true);
    }

    /// <summary>A new <c>bbcode_uid</c>, as <c>substr(base_convert(unique_id(), 16, 36), 0, BBCODE_UID_LEN)</c> gives one.</summary>
    /// <remarks>
    /// Each character uniform over the 36 digits, as <see cref="RandomNumberGenerator.GetInt32(int)"/> gives them, but
    /// from one call into the system's generator per uid (a bulk import makes thousands): random bytes below 252
    /// (7 × 36) taken modulo 36, the others dropped.
    /// </remarks>
    public static string NewUid()
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        const int Accepted = 252;
        Span<byte> random = stackalloc byte[2 * UidLength];
        Span<char> uid = stackalloc char[UidLength];
        var filled = 0;
        while (filled < UidLength)
        {
            RandomNumberGenerator.Fill(random);
            foreach (var b in random)
            {
                if (b >= Accepted) continue;
                uid[filled++] = Digits[b % Digits.Length];
                if (filled == UidLength) break;
            }
        }
        return new string(uid);
    }
}
