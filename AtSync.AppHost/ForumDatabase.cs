using Microsoft.Extensions.Configuration;

namespace AtSync.AppHost;

/// <summary>
/// The phpBB database both services use (<c>ConnectionStrings__phpbb</c>), in one of two modes (README: Aspire):
/// <list type="bullet">
/// <item><b>existing forum</b>: <c>ConnectionStrings:phpbb</c> is configured for the AppHost (user secrets or
/// environment <c>ConnectionStrings__phpbb</c>). No container is declared; the services get that connection string.</item>
/// <item><b>full stack</b>: otherwise, MySQL and phpBB containers (FullStack/ForumStack.cs), built only with
/// <c>AtSyncAspireFullStack</c> (it needs Aspire.Hosting.MySql).</item>
/// </list>
/// </summary>
/// <param name="ConnectionString">The <c>phpbb</c> connection string resource the services reference.</param>
/// <param name="ReadyWhenHealthy">What the services wait for (healthy) before they start: none for an existing forum.</param>
/// <param name="Forum">The full stack's phpBB container (the front door's upstream); none for an existing forum.</param>
internal sealed record ForumDatabase(
    IResourceBuilder<IResourceWithConnectionString> ConnectionString,
    IResourceBuilder<IResource>? ReadyWhenHealthy,
    IResourceBuilder<ContainerResource>? Forum = null)
{
    /// <summary>The full stack's MySQL server, its service account and that account's password (for mysqld_exporter: Monitoring.cs).</summary>
    public IResourceBuilder<IResourceWithEndpoints>? Server { get; init; }
    public string? AccountName { get; init; }
    public IResourceBuilder<ParameterResource>? AccountPassword { get; init; }

    /// <summary>The connection string's name: the services read <c>ConnectionStrings__phpbb</c>.</summary>
    public const string Name = "phpbb";

    public bool IsExistingForum => ReadyWhenHealthy is null;

    public static bool ExistingForumConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(Name));

    public static ForumDatabase Add(IDistributedApplicationBuilder builder, AtSyncParameters parameters)
    {
        if (ExistingForumConfigured(builder.Configuration))
        {
            // A secret parameter read from ConnectionStrings:phpbb (in a compose file: the ${PHPBB} variable).
            return new ForumDatabase(builder.AddConnectionString(Name), ReadyWhenHealthy: null);
        }
#if ATSYNC_FULL_STACK
        return ForumStack.Add(builder, parameters);
#else
        // StartupCheck stops `dotnet run` before this with one line; this is for a host that skips it.
        _ = parameters;
        throw new InvalidOperationException(StartupCheck.NoFullStackMessage);
#endif
    }
}
