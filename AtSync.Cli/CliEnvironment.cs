using AtSync.Core.Settings;
using AtSync.Core.Storage;
using AtSync.Core.Tokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.Cli;

/// <summary>A settings problem, as the one line the services print for it (names the setting, never its value).</summary>
public sealed class SettingsException(string line) : Exception(line);

/// <summary>
/// The same settings as the services (AtSync.Core/Settings: environment names, <c>&lt;NAME&gt;_FILE</c> secrets, the same
/// validation), bound lazily: a command only needs the settings it uses (<c>status</c> needs the database alone).
/// </summary>
public sealed class CliEnvironment : IDisposable
{
    private readonly IHost _host;

    private CliEnvironment(IHost host) => _host = host;

    public IConfiguration Configuration => _host.Services.GetRequiredService<IConfiguration>();

    public TimeProvider Time => _host.Services.GetRequiredService<TimeProvider>();

    public static CliEnvironment Create()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true, ApplicationName = "atsync", EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.ClearProviders();
        builder.AddAtSyncDatabase();
        builder.AddForumSettings();
        builder.AddNetworkSettings();
        builder.AddTokenEncryptionSettings();
        return new CliEnvironment(builder.Build());
    }

    /// <summary>A validated settings group; <see cref="SettingsException"/> with the services' one line when it is not valid.</summary>
    public T Settings<T>() where T : class
    {
        try
        {
            _ = _host.Services.GetRequiredService<IOptions<SecretFiles.SecretFileSetting>>().Value;
            return _host.Services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            throw new SettingsException(ServiceRunner.DescribeSettingsFailure(ex) ?? "settings are invalid.");
        }
    }

    /// <summary>One settings group as bound, throwing <see cref="OptionsValidationException"/> when it is invalid (for doctor).</summary>
    public T Options<T>() where T : class => _host.Services.GetRequiredService<IOptions<T>>().Value;

    public AtSyncTables Tables => new(Settings<DatabaseOptions>().TablePrefix);

    public MySqlDataSource DataSource
    {
        get
        {
            _ = Settings<DatabaseOptions>();
            return _host.Services.GetRequiredService<MySqlDataSource>();
        }
    }

    public async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken) =>
        await DataSource.OpenConnectionAsync(cancellationToken);

    public TokenCipher Cipher() => TokenCipher.FromOptions(Settings<TokenEncryptionOptions>());

    public void Dispose() => _host.Dispose();
}
