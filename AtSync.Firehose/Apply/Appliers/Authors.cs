using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// The phpBB user of a post's author: the one linked to the DID, or a new one named from the handle the verify stage
/// resolved (carried in the prepared batch), starting out inactive when the relay already reported the account
/// deactivated. Remembered for the transaction.
/// </summary>
internal sealed class Authors(UserLinks links, AccountRows accounts, PhpbbUsers users, IReadOnlyDictionary<string, string?> handles)
{
    private readonly Dictionary<string, PhpbbUser> _users = new(StringComparer.Ordinal);

    public async Task<PhpbbUser> EnsureAsync(string did, long time, CancellationToken ct)
    {
        if (_users.TryGetValue(did, out var known)) return known;
        var user = await links.FindAsync(did, ct);
        if (user is null)
        {
            var handle = handles.GetValueOrDefault(did);
            user = await users.CreateAsync(PhpbbUsernames.Preferred(did, handle), time, ct);
            await links.LinkAsync(user.UserId, did, handle, time, ct);
            if (await accounts.IsDeactivatedAsync(did, ct)) await users.SetActiveAsync(user.UserId, false, time, ct);
        }
        _users[did] = user;
        return user;
    }
}
