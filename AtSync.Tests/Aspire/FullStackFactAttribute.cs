namespace AtSync.Tests.Aspire;

/// <summary>A fact about the full stack's publish output: skipped, with the reason, where the AppHost was built without it.</summary>
public sealed class FullStackFactAttribute : FactAttribute
{
    public const string Reason =
        "needs the AppHost's full stack (Aspire.Hosting.MySql and Aspire.Hosting.Docker, from nuget.org); this build has AtSyncAspireFullStack=false";

    public FullStackFactAttribute()
    {
        if (!AppHostFactory.HasFullStack) Skip = Reason;
    }
}
