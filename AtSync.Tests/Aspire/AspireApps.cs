namespace AtSync.Tests.Aspire;

/// <summary>Tests that run the AppHost (DCP, both services, the dashboard) one at a time: two cores, fixed dashboard ports.</summary>
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class AspireApps
{
    public const string Collection = "Aspire applications";
}
