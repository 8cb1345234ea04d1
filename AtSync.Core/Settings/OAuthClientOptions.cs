using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Settings;

/// <summary>
/// The OAuth client settings a service that refreshes OAuth sessions needs (the QueueWorker): the same
/// <c>LINKING_PUBLIC_URL</c> and <c>OAUTH_CLIENT_KEY</c> the linking service signed the users in with, since a
/// refresh must come from the client the session was issued to. Optional: without them OAuth sessions are used
/// until their access token expires and then wait (the refresh reports the missing setting).
/// </summary>
public sealed class OAuthClientOptions
{
    [ConfigurationKeyName(OAuthClientConfiguration.PublicUrlName)]
    public string PublicUrl { get; set; } = "";

    /// <summary>Secret.</summary>
    [ConfigurationKeyName(OAuthClientConfiguration.ClientKeyName)]
    public string ClientKey { get; set; } = "";

    public bool IsConfigured => PublicUrl.Length > 0;

    public override string ToString() => $"OAuthClientOptions {{ PublicUrl = {PublicUrl}, Confidential = {ClientKey.Length > 0} }}";
}

internal sealed class OAuthClientOptionsValidator : IValidateOptions<OAuthClientOptions>
{
    public ValidateOptionsResult Validate(string? name, OAuthClientOptions options)
    {
        if (!options.IsConfigured)
        {
            return options.ClientKey.Length > 0
                ? ValidateOptionsResult.Fail($"{OAuthClientConfiguration.PublicUrlName} is missing (needed with {OAuthClientConfiguration.ClientKeyName})")
                : ValidateOptionsResult.Success;
        }
        var problems = OAuthClientConfiguration.Problems(options.PublicUrl, options.ClientKey).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
