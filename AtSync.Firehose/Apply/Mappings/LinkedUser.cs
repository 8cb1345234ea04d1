namespace AtSync.Firehose.Apply.Mappings;

/// <summary>A DID's phpBB user, and whether it signed in through AtSync (a session: the QueueWorker publishes for it).</summary>
internal readonly record struct LinkedUser(uint UserId, bool HasSession);
