using AtSync.Core.Settings;
using Microsoft.Extensions.Options;

namespace AtSync.Linking;

/// <summary>The linking service's own settings (flat environment names, like every AtSync setting).</summary>
public sealed class LinkingOptions
{
    public const string PublicUrlName = OAuthClientConfiguration.PublicUrlName;
    public const string ClientKeyName = OAuthClientConfiguration.ClientKeyName;
    public const string HandleResolverName = "HANDLE_RESOLVER_URL";
    public const string AllowLoopbackHttpName = "OAUTH_ALLOW_LOOPBACK_HTTP";
    public const string ClientNameName = "LINKING_CLIENT_NAME";
    public const string DefaultHandleResolver = "https://public.api.bsky.app";

    /// <summary>Where users reach this service, ending in '/', e.g. <c>https://forum.example.com/atproto/</c> (phpBB's origin).</summary>
    [Microsoft.Extensions.Configuration.ConfigurationKeyName(PublicUrlName)]
    public string PublicUrl { get; set; } = "";

    /// <summary>Secret, optional: base64url PKCS#8 P-256 key; makes this a confidential client (<c>private_key_jwt</c>).</summary>
    [Microsoft.Extensions.Configuration.ConfigurationKeyName(ClientKeyName)]
    public string ClientKey { get; set; } = "";

    [Microsoft.Extensions.Configuration.ConfigurationKeyName(HandleResolverName)]
    public string HandleResolverUrl { get; set; } = DefaultHandleResolver;

    /// <summary>Development only: accept http:// on loopback hosts for PDSes and authorization servers.</summary>
    [Microsoft.Extensions.Configuration.ConfigurationKeyName(AllowLoopbackHttpName)]
    public bool AllowLoopbackHttp { get; set; }

    [Microsoft.Extensions.Configuration.ConfigurationKeyName(AtSync.Core.Settings.SettingNames.PlcDirectoryUrl)]
    public string PlcDirectoryUrl { get; set; } = AtSync.Core.Settings.SettingNames.DefaultPlcDirectoryUrl;

    [Microsoft.Extensions.Configuration.ConfigurationKeyName(ClientNameName)]
    public string ClientName { get; set; } = "AtSync forum";

    public override string ToString() => $"LinkingOptions {{ PublicUrl = {PublicUrl}, Confidential = {ClientKey.Length > 0} }}";
}

internal sealed class LinkingOptionsValidator : IValidateOptions<LinkingOptions>
{
    public ValidateOptionsResult Validate(string? name, LinkingOptions options)
    {
        var failures = new List<string>();
        failures.AddRange(OAuthClientConfiguration.Problems(options.PublicUrl, options.ClientKey));
        if (!Uri.TryCreate(options.HandleResolverUrl, UriKind.Absolute, out var resolver) || resolver.Scheme is not ("http" or "https"))
        {
            failures.Add($"{LinkingOptions.HandleResolverName} must be an absolute http(s) URL");
        }
        if (!Uri.TryCreate(options.PlcDirectoryUrl, UriKind.Absolute, out var plc) || plc.Scheme is not ("http" or "https"))
        {
            failures.Add($"{AtSync.Core.Settings.SettingNames.PlcDirectoryUrl} must be an absolute http(s) URL");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
