using AtSync.Core.Forum.Text;

namespace AtSync.Firehose.Apply.Phpbb;

/// <summary>
/// Renames a phpBB user the way phpBB's <c>user_update_name()</c> does (includes/functions_user.php): the user's
/// <c>username</c> and <c>username_clean</c>, and the names phpBB keeps denormalised beside the poster's id
/// (<c>topic_first_poster_name</c>, <c>topic_last_poster_name</c>, <c>forum_last_poster_name</c>). The new name is
/// made unique on <c>username_clean</c> as at creation (<c>name (2)</c>, …).
/// </summary>
internal sealed class PhpbbRenames(ForumSession db)
{
    /// <summary>Whether <paramref name="username"/> is a name AtSync gave for <paramref name="preferred"/> (itself or <c>preferred (n)</c>).</summary>
    public static bool IsGivenName(string username, string preferred)
    {
        var stored = PhpbbColumnText.Name(preferred);
        if (username == stored) return true;
        for (var attempt = 2; attempt <= 1000; attempt++)
        {
            if (username == PhpbbColumnText.Name(PhpbbUsernames.Candidate(preferred, attempt))) return true;
            if (!username.StartsWith(stored, StringComparison.Ordinal)) return false;
        }
        return false;
    }

    /// <summary>Renames <paramref name="userId"/> to a free name from <paramref name="preferred"/>; returns the name given.</summary>
    public async Task<string> RenameAsync(uint userId, string preferred, CancellationToken ct)
    {
        var t = db.Tables;
        string username, clean;
        for (var attempt = 1; ; attempt++)
        {
            username = PhpbbColumnText.Name(PhpbbUsernames.Candidate(preferred, attempt));
            clean = PhpbbUsernames.Clean(username);
            if (await db.CountAsync($"SELECT COUNT(*) FROM {t.PhpbbUsers} WHERE username_clean = @clean AND user_id <> @id", ct,
                ("@clean", clean), ("@id", userId)) == 0) break;
        }
        await db.ExecuteAsync($"UPDATE {t.PhpbbUsers} SET username = @name, username_clean = @clean WHERE user_id = @id", ct,
            ("@name", username), ("@clean", clean), ("@id", userId));
        await db.ExecuteAsync($"UPDATE {t.PhpbbTopics} SET topic_first_poster_name = @name WHERE topic_poster = @id", ct, ("@name", username), ("@id", userId));
        await db.ExecuteAsync($"UPDATE {t.PhpbbTopics} SET topic_last_poster_name = @name WHERE topic_last_poster_id = @id", ct, ("@name", username), ("@id", userId));
        await db.ExecuteAsync($"UPDATE {t.PhpbbForums} SET forum_last_poster_name = @name WHERE forum_last_poster_id = @id", ct, ("@name", username), ("@id", userId));
        return username;
    }
}
