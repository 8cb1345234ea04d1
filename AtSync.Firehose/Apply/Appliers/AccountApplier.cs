using AtSync.Core.Storage;
using AtSync.Firehose.Apply.Mappings;
using AtSync.Firehose.Apply.Phpbb;
using AtSync.Firehose.Events;

namespace AtSync.Firehose.Apply.Appliers;

/// <summary>
/// <c>#identity</c> and <c>#account</c> of DIDs that are forum users: the stored handle follows; a deactivated account
/// makes the phpBB user inactive, a reactivated one normal again. Other DIDs are not kept.
/// </summary>
internal sealed class AccountApplier(UserLinks links, AccountRows accounts, PhpbbUsers users, BatchOutcome outcome)
{
    public async Task ApplyAsync(IdentityEvent identity, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(identity.Handle) && !AsciiColumn.Fits(identity.Handle, 253))
        {
            // Handles are ASCII, and so is the column: anything else is not a handle (and would fail the batch).
            outcome.Skip(Outcomes.InvalidHandle);
        }
        else if (!string.IsNullOrEmpty(identity.Handle) && await links.SetHandleAsync(identity.Did, identity.Handle, EventTimes.Unix(identity.Time), ct))
        {
            outcome.Apply(Outcomes.Identity);
        }
        else
        {
            outcome.Skip(Outcomes.UnlinkedUser);
        }
    }

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
