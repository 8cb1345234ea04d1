using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace AtSync.AppHost;

/// <summary>
/// What <c>dotnet run</c> needs before anything starts, each missing piece as one line (exit code 2) instead of an
/// AppHost that waits forever: a forum database (an existing one, or a container runtime for the full stack), every
/// parameter without a default, and the dev certificate when a launch profile asks for https. Names, never values.
/// </summary>
internal static class StartupCheck
{
    public const int ExitCode = 2;
    private const string Prefix = "AtSync.AppHost: ";
    private const string ExistingForumHint =
        "for an existing forum set its database: dotnet user-secrets set ConnectionStrings:phpbb \"Server=…;Port=3306;User ID=…;Password=…;Database=…\" --project AtSync.AppHost (or environment ConnectionStrings__phpbb)";

    public const string NoFullStackMessage =
        Prefix + "no forum database: ConnectionStrings:phpbb is not set, and this build has no full stack (built with AtSyncAspireFullStack=false); " + ExistingForumHint;

    /// <summary>Where the forum database comes from: configured, or (built with it) the full stack.</summary>
    public static string? Database(IDistributedApplicationBuilder builder)
    {
#if ATSYNC_FULL_STACK
        _ = builder;
        return null;
#else
        return ForumDatabase.ExistingForumConfigured(builder.Configuration) ? null : NoFullStackMessage;
#endif
    }

    /// <summary>
    /// The full stack's containers need a container runtime: checked when the application starts (before DCP does
    /// anything), so that building the model (tests, publishing) needs none. Stops the start with one line.
    /// </summary>
    public static void RequireContainerRuntime(IConfiguration configuration)
    {
        var runtime = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        if (ContainerRuntimeProblem(runtime) is { } problem)
        {
            throw new StartupCheckException(
                $"{Prefix}the full stack (MySQL and phpBB containers) needs a container runtime, and {problem}; start it, or {ExistingForumHint}");
        }
    }

    /// <summary>The one line of a failed check, wherever in the exception chain the start put it.</summary>
    public static string? Message(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is StartupCheckException check) return check.Message;
        }
        return null;
    }

    /// <summary>Parameters with no configured value and no default, by name (run mode: publishing needs no values).</summary>
    public static string? Parameters(IDistributedApplicationBuilder builder)
    {
        if (!builder.ExecutionContext.IsRunMode)
        {
            return null;
        }
        var missing = builder.Resources.OfType<ParameterResource>()
            .Where(p => !p.IsConnectionString && !p.Annotations.OfType<ParameterDefaultAnnotation>().Any())
            .Where(p => string.IsNullOrEmpty(AtSyncParameters.Configured(builder.Configuration, $"Parameters:{p.Name}")))
            .Select(p => p.Name)
            .ToList();
        if (missing.Count == 0)
        {
            return null;
        }
        var first = missing[0];
        return $"{Prefix}missing parameter{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}: set each as Parameters:<name>, e.g. " +
            $"dotnet user-secrets set Parameters:{first} <value> --project AtSync.AppHost (or environment Parameters__{first.Replace('-', '_')})";
    }

    /// <summary>A launch profile with an https URL needs the ASP.NET Core development certificate (the http profile does not).</summary>
    public static string? DevelopmentCertificate(IDistributedApplicationBuilder builder)
    {
        var urls = builder.Configuration["ASPNETCORE_URLS"] ?? "";
        if (!builder.ExecutionContext.IsRunMode || !urls.Contains("https://", StringComparison.OrdinalIgnoreCase) || HasDevelopmentCertificate())
        {
            return null;
        }
        return $"{Prefix}the https launch profile needs the ASP.NET Core development certificate, and there is none: " +
            "create it with `dotnet dev-certs https --trust`, or run the default http profile (dotnet run --project AtSync.AppHost --launch-profile http)";
    }

    private static bool HasDevelopmentCertificate()
    {
        // The OID dotnet dev-certs marks its certificate with (ASP.NET Core HTTPS development certificate).
        const string DevelopmentCertificateOid = "1.3.6.1.4.1.311.84.1.1";
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException)
        {
            return false; // no certificate store at all: `dotnet dev-certs` never ran for this user
        }
        var now = DateTime.Now;
        return store.Certificates.Any(c => c.Extensions.Any(e => e.Oid?.Value == DevelopmentCertificateOid) && c.NotBefore <= now && now <= c.NotAfter);
    }

    private static string? ContainerRuntimeProblem(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return $"{runtime} could not be started";
            }
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return $"`{runtime} info` did not answer within 10 s";
            }
            var reason = stderr.Result.Trim().Split('\n')[0].Trim();
            return process.ExitCode == 0 ? null : $"`{runtime} info` failed ({(reason.Length > 0 ? reason : $"exit code {process.ExitCode}")})";
        }
        catch (Win32Exception)
        {
            return $"{runtime} is not installed";
        }
    }
}

/// <summary>A start-up check that failed: its message is the one line shown.</summary>
internal sealed class StartupCheckException(string message) : Exception(message);

/// <summary>Marks a parameter that has a default value (<see cref="AtSyncParameters.WithDefault"/>): never missing.</summary>
internal sealed class ParameterDefaultAnnotation : IResourceAnnotation;
