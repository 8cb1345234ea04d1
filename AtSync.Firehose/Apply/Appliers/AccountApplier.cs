using AtSync.Core.Storage;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// <c>#identity</c> and <c>#account</c> of DIDs that are forum users. <c>#identity</c>: the handle the verify stage
/// re-checked both ways (in <paramref name="handles"/>; the event's own <c>handle</c> is only a claim) is stored, and a
/// user still named as AtSync named it (from the old handle or the DID) is renamed after the new verified handle, or
/// after the DID when the handle no longer resolves back (<see cref="PhpbbRenames"/>); a DID whose check could not be
/// made now keeps its name. A deactivated account makes the phpBB user inactive, a reactivated one normal again.
/// Other DIDs are not kept.
/// </summary>
internal sealed class AccountApplier(UserLinks links, AccountRows accounts, PhpbbUsers users, PhpbbRenames renames,
    IReadOnlyDictionary<string, string?> handles, BatchOutcome outcome)
{
    public async Task ApplyAsync(IdentityEvent identity, CancellationToken ct)
    {
        if (await links.FindWithHandleAsync(identity.Did, ct) is not { } linked)
        {
            outcome.Skip(Outcomes.UnlinkedUser);
            return;
        }
        if (!handles.TryGetValue(identity.Did, out var verified))
        {
            outcome.Skip(Outcomes.IdentityUnchecked);
            return;
        }
        if (verified is not null && !AsciiColumn.Fits(verified, 253))
        {
            // Handles are ASCII, and so is the column: anything else is not a handle (and would fail the batch).
            outcome.Skip(Outcomes.InvalidHandle);
            return;
        }
        var time = EventTimes.Unix(identity.Time);
        await links.SetHandleAsync(identity.Did, verified ?? "", time, ct);
        var preferred = PhpbbUsernames.Preferred(identity.Did, verified);
        if (PhpbbRenames.IsGivenName(linked.User.Username, PhpbbUsernames.Preferred(identity.Did, NullIfEmpty(linked.Handle)))
            && !PhpbbRenames.IsGivenName(linked.User.Username, preferred))
        {
            await renames.RenameAsync(linked.User.UserId, preferred, ct);
        }
        outcome.Apply(Outcomes.Identity);
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    public async Task ApplyAsync(AccountEvent account, CancellationToken ct)
    {
        if (await links.UserIdAsync(account.Did, ct) is not { } userId)
        {
            outcome.Skip(Outcomes.UnlinkedUser);
            return;
        }
        var time = EventTimes.Unix(account.Time);
        await accounts.SaveAsync(account.Did, account.Active, account.Status, time, ct);
        await users.SetActiveAsync(userId, account.Active, time, ct);
        outcome.Apply(Outcomes.Account);
    }
}
