using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AtSync.Core.Settings;

/// <summary>
/// Registers the typed settings a service needs, each bound from the flat environment names of docs/design.md
/// and validated when the host starts (<see cref="ServiceRunner"/> turns failures into one line).
/// </summary>
public static class SettingsRegistration
{
    public static IHostApplicationBuilder AddForumSettings(this IHostApplicationBuilder builder)
    {
        builder.AddSecretFileSettings();
        builder.Services.AddOptions<ForumOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ForumOptions>, ForumOptionsValidator>());
        return builder;
    }

    /// <summary>The forum account's credentials (<see cref="ForumAccountOptions"/>): required by the service that signs in as the forum.</summary>
    public static IHostApplicationBuilder AddForumAccountSettings(this IHostApplicationBuilder builder)
    {
        builder.AddSecretFileSettings();
        builder.Services.AddOptions<ForumAccountOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ForumAccountOptions>, ForumAccountOptionsValidator>());
        return builder;
    }

    public static IHostApplicationBuilder AddTokenEncryptionSettings(this IHostApplicationBuilder builder)
    {
        builder.AddSecretFileSettings();
        builder.Services.AddOptions<TokenEncryptionOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenEncryptionOptions>, TokenEncryptionOptionsValidator>());
        return builder;
    }

    /// <summary>The optional OAuth client settings (<see cref="OAuthClientOptions"/>), validated when given.</summary>
    public static IHostApplicationBuilder AddOAuthClientSettings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OAuthClientOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OAuthClientOptions>, OAuthClientOptionsValidator>());
        return builder;
    }

    /// <summary>Relay, labeler (defaulting to the forum's) and PLC directory. Needs <see cref="AddForumSettings"/>.</summary>
    public static IHostApplicationBuilder AddNetworkSettings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<NetworkOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<NetworkOptions>, NetworkOptionsDefaults>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NetworkOptions>, NetworkOptionsValidator>());
        return builder;
    }

    /// <summary>The identity fetch settings (<see cref="IdentityOptions"/>: allow-list, DNS server), validated at start.</summary>
    public static IHostApplicationBuilder AddIdentitySettings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdentityOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>());
        return builder;
    }

    public static IHostApplicationBuilder AddDatabaseSettings(this IHostApplicationBuilder builder)
    {
        builder.AddSecretFileSettings();
        builder.Services.AddOptions<DatabaseOptions>()
            .Bind(builder.Configuration)
            .Configure(options => options.ConnectionString = builder.Configuration.GetConnectionString(SettingNames.ConnectionStringName) ?? "")
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>());
        return builder;
    }

    /// <summary>
    /// <c>LOG_LEVEL</c> sets the default minimum level of every logger. A malformed value stops the service at start.
    /// </summary>
    public static IHostApplicationBuilder AddLogLevelSetting(this IHostApplicationBuilder builder)
    {
        var value = builder.Configuration[SettingNames.LogLevel];
        var reason = SettingChecks.LogLevelName(value);
        if (reason is not null)
        {
            builder.Services.AddOptions<LogLevelSetting>().Validate(_ => false, $"{SettingNames.LogLevel} {reason}").ValidateOnStart();
        }
        else if (!string.IsNullOrWhiteSpace(value))
        {
            builder.Configuration.AddInMemoryCollection([new("Logging:LogLevel:Default", value)]);
        }
        return builder;
    }

    /// <summary>Marker for <c>LOG_LEVEL</c>'s start-up validation.</summary>
    public sealed class LogLevelSetting;
}
