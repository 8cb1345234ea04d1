using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MySqlConnector;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// A throwaway MySQL-compatible server for tests: <c>mariadbd</c> (or <c>mysqld</c>) from PATH or /usr/sbin, on a free
/// loopback port with a temporary data directory, removed afterwards. <see cref="SharedAsync"/> gives the one server
/// of the test run, or the server named by <c>ATSYNC_TEST_MYSQL</c> (an admin connection string) when that is set.
/// It runs as production's MySQL 8.4 does (<see cref="ProductionLikeArguments"/>): binary logging on (row format,
/// bounded retention) and <c>log_bin_trust_function_creators</c> set, as docker/mysqld.args sets it.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    public const string ExternalServerVariable = "ATSYNC_TEST_MYSQL";
    private const string TestUser = "atsync_test";

    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static MariaDbServer? _shared;
    private static int _databaseCounter;

    private readonly string? _serverBinary;
    private readonly string? _rootDirectory;
    private readonly string? _dataDirectory;
    private readonly MariaDbServerOptions _options = new();
    private Process? _process;

    private MariaDbServer(string adminConnectionString)
    {
        AdminConnectionString = adminConnectionString;
    }

    private MariaDbServer(string serverBinary, string rootDirectory, int port, string password, MariaDbServerOptions options)
    {
        _options = options;
        _serverBinary = serverBinary;
        // The server's own temporary directory beside its data: /tmp is shared, and a cleanup there must not take
        // the server's internal temporary tables (error "Error on delete of '/tmp/#sql-temptable-…'").
        _rootDirectory = rootDirectory;
        _dataDirectory = Path.Combine(rootDirectory, "data");
        Directory.CreateDirectory(TemporaryDirectory);
        Port = port;
        Password = password;
        AdminConnectionString = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1", Port = (uint)port, UserID = TestUser, Password = password,
            Pooling = true, ConnectionTimeout = 5, SslMode = MySqlSslMode.Required,
        }.ConnectionString;
    }

    /// <summary>
    /// Binary logging as MySQL 8.4 has it by default (on, row format, a server id), with retention bounded as
    /// docker/mysqld.args bounds it. .ci/run starts its server with the same arguments.
    /// </summary>
    public static readonly IReadOnlyList<string> ProductionLikeArguments =
        ["--log-bin=binlog", "--server-id=1", "--binlog-format=ROW", "--binlog-expire-logs-seconds=86400", "--max-binlog-size=64M"];

    public string AdminConnectionString { get; }

    public int Port { get; }

    /// <summary>The test user's password: tests use it to check that no log line or health body carries it.</summary>
    public string? Password { get; }

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<MariaDbServer> SharedAsync()
    {
        await SharedGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_shared is not null) return _shared;
            var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
            _shared = string.IsNullOrWhiteSpace(external) ? await StartDedicatedAsync().ConfigureAwait(false) : new MariaDbServer(external);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => _shared?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return _shared;
        }
        finally
        {
            SharedGate.Release();
        }
    }

    /// <summary>A server of the caller's own, for tests that stop and restart it.</summary>
    public static async Task<MariaDbServer> StartDedicatedAsync(MariaDbServerOptions? options = null)
    {
        var binary = FindServerBinary();
        var rootDirectory = Directory.CreateTempSubdirectory("atsync-mariadb-").FullName;
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var server = new MariaDbServer(binary, rootDirectory, FreeLoopbackPort(), password, options ?? new MariaDbServerOptions());
        try
        {
            await server.InitializeDataDirectoryAsync().ConfigureAwait(false);
            server.WriteTlsCertificate();
            await server.StartAsync().ConfigureAwait(false);
            await server.CreateTestUserAsync().ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return server;
    }

    /// <summary>Starts (or restarts) the server process on its port and data directory; returns when it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (_serverBinary is null) throw new InvalidOperationException("An external server cannot be started by the tests.");
        if (IsRunning) return;
        var start = new ProcessStartInfo(_serverBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--no-defaults", "--user=root", $"--datadir={_dataDirectory}", $"--tmpdir={TemporaryDirectory}", $"--socket={SocketPath}", $"--port={Port}",
            "--bind-address=127.0.0.1", $"--pid-file={Path.Combine(_dataDirectory!, "server.pid")}",
            $"--log-error={Path.Combine(_dataDirectory!, "error.log")}", "--innodb-flush-log-at-trx-commit=2",
            "--innodb-buffer-pool-size=256M", "--max-connections=500", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_bin", $"--log-bin-trust-function-creators={(_options.TrustFunctionCreators ? 1 : 0)}",
            $"--performance-schema={(_options.PerformanceSchema ? "ON" : "OFF")}",
            $"--ssl-cert={Path.Combine(_dataDirectory!, "tls-cert.pem")}", $"--ssl-key={Path.Combine(_dataDirectory!, "tls-key.pem")}",
        }.Concat(ProductionLikeArguments))
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_serverBinary}.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>Stops the server as an outage would (SIGKILL), keeping its data for <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
        _process = null;
        MySqlConnection.ClearAllPools();
    }

    /// <summary>A new, empty database (with phpBB's tables when asked) and a connection string for it.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync(bool withPhpbbSchema = true, string prefix = "phpbb_", PhpbbCharset charset = PhpbbCharset.Installer)
    {
        var name = $"atsync_t{Interlocked.Increment(ref _databaseCounter)}_{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
        await using (var connection = new MySqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        var connectionString = new MySqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        if (withPhpbbSchema)
        {
            await PhpbbSchema.CreateAsync(connectionString, prefix, charset).ConfigureAwait(false);
        }
        return new TestDatabase(this, name, connectionString, prefix);
    }

    internal async Task DropDatabaseAsync(string name)
    {
        if (_serverBinary is not null && !IsRunning) return;
        await using var connection = new MySqlConnection(AdminConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{name}`", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_rootDirectory is not null && Directory.Exists(_rootDirectory))
        {
            try { Directory.Delete(_rootDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private string SocketPath => Path.Combine(_dataDirectory!, "mysql.sock");

    private string TemporaryDirectory => Path.Combine(_rootDirectory!, "tmp");

    private async Task InitializeDataDirectoryAsync()
    {
        var isMariaDb = Path.GetFileName(_serverBinary!).StartsWith("mariadb", StringComparison.Ordinal);
        var installer = isMariaDb ? FindExecutable("mariadb-install-db", "mysql_install_db") : null;
        ProcessStartInfo start;
        if (installer is not null)
        {
            start = new ProcessStartInfo(installer);
            foreach (var argument in new[] { "--no-defaults", "--user=root", $"--datadir={_dataDirectory}", $"--tmpdir={TemporaryDirectory}", "--auth-root-authentication-method=socket", "--skip-test-db" })
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start = new ProcessStartInfo(_serverBinary!);
            foreach (var argument in new[] { "--no-defaults", "--initialize-insecure", "--user=root", $"--datadir={_dataDirectory}", $"--tmpdir={TemporaryDirectory}" })
            {
                start.ArgumentList.Add(argument);
            }
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {start.FileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{start.FileName} failed ({process.ExitCode}): {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }

    /// <summary>
    /// A throwaway self-signed certificate, so that clients connect with TLS (<c>SslMode=Required</c>) as the services
    /// do in production, where the MySQL image generates its own certificate.
    /// </summary>
    private void WriteTlsCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
        File.WriteAllText(Path.Combine(_dataDirectory!, "tls-cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dataDirectory!, "tls-key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    private async Task CreateTestUserAsync()
    {
        var socket = new MySqlConnectionStringBuilder
        {
            Server = SocketPath, ConnectionProtocol = MySqlConnectionProtocol.UnixSocket, UserID = "root", Pooling = false,
            SslMode = MySqlSslMode.None,
        };
        await using var connection = new MySqlConnection(socket.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        foreach (var sql in new[]
        {
            $"CREATE USER IF NOT EXISTS '{TestUser}'@'127.0.0.1' IDENTIFIED BY '{Password}'",
            $"GRANT ALL PRIVILEGES ON *.* TO '{TestUser}'@'127.0.0.1' WITH GRANT OPTION",
        })
        {
            await using var command = new MySqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    private async Task WaitUntilAcceptingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"{_serverBinary} exited with {_process.ExitCode}: {ReadErrorLog()}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                if (File.Exists(SocketPath)) return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"{_serverBinary} did not accept connections within {timeout}: {ReadErrorLog()}");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private string ReadErrorLog()
    {
        var path = Path.Combine(_dataDirectory!, "error.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(15)) : "(no error log)";
    }

    private static string FindServerBinary() =>
        Environment.GetEnvironmentVariable("ATSYNC_MYSQLD") is { Length: > 0 } configured ? configured
        : FindExecutable("mariadbd", "mysqld")
        ?? throw new InvalidOperationException(
            "No MySQL-compatible server for the integration tests: install MariaDB (Debian: apt-get install -y mariadb-server) " +
            $"so that mariadbd is on PATH or in /usr/sbin, or set {ExternalServerVariable} to an admin connection string.");

    private static string? FindExecutable(params string[] names)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec"]);
        return names.SelectMany(name => directories.Select(dir => Path.Combine(dir, name))).FirstOrDefault(File.Exists);
    }

    private static int FreeLoopbackPort()
    {
        return LoopbackPorts.Next();
    }
}

/// <summary>How a dedicated <see cref="MariaDbServer"/> differs from the default.</summary>
/// <param name="TrustFunctionCreators"><c>log_bin_trust_function_creators</c> (on by default, as production sets it).</param>
/// <param name="PerformanceSchema">Statement digests with warning counts (<c>performance_schema</c>); off by default (memory).</param>
public sealed record MariaDbServerOptions(bool TrustFunctionCreators = true, bool PerformanceSchema = false);

/// <summary>One test's database on a <see cref="MariaDbServer"/>.</summary>
public sealed record TestDatabase(MariaDbServer Server, string Name, string ConnectionString, string Prefix) : IAsyncDisposable
{
    public AtSync.Core.Storage.AtSyncTables Tables => new(Prefix);

    public async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        return connection;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenAsync().ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync().ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// For test-only SQL that names session variables (<c>@x</c>). The services' connection strings never set
    /// "Allow User Variables", and neither does <see cref="ConnectionString"/>: code under test must not rely on it.
    /// </summary>
    public async Task ExecuteWithUserVariablesAsync(string sql)
    {
        var builder = new MySqlConnectionStringBuilder(ConnectionString) { AllowUserVariables = true };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(Server.DropDatabaseAsync(Name));
}
