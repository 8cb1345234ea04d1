namespace AtSync.Tests.Aspire.FullStack;

/// <summary>The AppHost's configuration for the full stack: no connection string, every parameter (test-only, random secrets).</summary>
internal static class FullStackSettings
{
    public const string RunSkipReason = "needs a container runtime (docker info failed or docker is not installed)";

    public static Dictionary<string, string> Values()
    {
        var values = AppHostFactory.ExistingForumSettings();
        values.Remove("ConnectionStrings:phpbb");
        values["Parameters:mysql-root-password"] = AppHostFactory.Secret();
        values["Parameters:mysql-password"] = AppHostFactory.Secret();
        values["Parameters:phpbb-admin-password"] = AppHostFactory.Secret();
        return values;
    }
}
