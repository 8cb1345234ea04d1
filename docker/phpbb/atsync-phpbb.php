<?php
// AtSync's phpBB container helper, called by the entrypoint:
//   php atsync-phpbb.php wait-db        wait (bounded) until the database accepts the configured account
//   php atsync-phpbb.php installed      exit 0 when phpBB's tables exist, 1 when the database is empty
//   php atsync-phpbb.php install-config print the installer's config (JSON, which is YAML) for phpbbcli.php
//   php atsync-phpbb.php write-config   write config.php for an already installed board
// Settings come from the environment; no value is ever printed except into the files phpBB reads.

declare(strict_types=1);

function setting(string $name, ?string $default = null): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            fwrite(STDERR, "atsync-phpbb: setting $name is missing\n");
            exit(2);
        }
        return $default;
    }
    return $value;
}

function prefix(): string
{
    $prefix = setting('PHPBB_TABLE_PREFIX', 'phpbb_');
    if (!preg_match('/^[a-z][a-z0-9_]{0,15}$/', $prefix)) {
        fwrite(STDERR, "atsync-phpbb: setting PHPBB_TABLE_PREFIX is malformed\n");
        exit(2);
    }
    return $prefix;
}

function connect(): ?mysqli
{
    mysqli_report(MYSQLI_REPORT_OFF);
    $db = @new mysqli(setting('PHPBB_DB_HOST'), setting('PHPBB_DB_USER'), setting('PHPBB_DB_PASSWORD'),
        setting('PHPBB_DB_NAME'), (int) setting('PHPBB_DB_PORT', '3306'));
    return $db->connect_errno === 0 ? $db : null;
}

$command = $argv[1] ?? '';
switch ($command) {
    case 'wait-db':
        $attempts = (int) setting('PHPBB_DB_WAIT_ATTEMPTS', '60');
        for ($i = 1; $i <= $attempts; $i++) {
            $db = connect();
            if ($db !== null) {
                $db->close();
                exit(0);
            }
            sleep(2);
        }
        fwrite(STDERR, "atsync-phpbb: the database did not accept the phpBB account after $attempts attempts\n");
        exit(1);

    case 'installed':
        $db = connect();
        if ($db === null) {
            fwrite(STDERR, "atsync-phpbb: cannot connect to the database\n");
            exit(3);
        }
        $table = $db->real_escape_string(prefix() . 'config');
        $result = $db->query("SHOW TABLES LIKE '$table'");
        exit($result !== false && $result->num_rows === 1 ? 0 : 1);

    case 'install-config':
        $config = ['installer' => [
            'admin' => [
                'name' => setting('PHPBB_ADMIN_USER', 'admin'),
                'password' => setting('PHPBB_ADMIN_PASSWORD'),
                'email' => setting('PHPBB_ADMIN_EMAIL', 'admin@example.com'),
            ],
            'board' => [
                'lang' => 'en',
                'name' => setting('PHPBB_BOARD_NAME', 'AtSync forum'),
                'description' => setting('PHPBB_BOARD_DESCRIPTION', 'A phpBB forum on the AT Protocol'),
            ],
            'database' => [
                'dbms' => 'mysqli',
                'dbhost' => setting('PHPBB_DB_HOST'),
                'dbport' => setting('PHPBB_DB_PORT', '3306'),
                'dbuser' => setting('PHPBB_DB_USER'),
                'dbpasswd' => setting('PHPBB_DB_PASSWORD'),
                'dbname' => setting('PHPBB_DB_NAME'),
                'table_prefix' => prefix(),
            ],
            'email' => ['enabled' => false],
            'server' => [
                'cookie_secure' => setting('PHPBB_SERVER_PROTOCOL', 'http://') === 'https://',
                'server_protocol' => setting('PHPBB_SERVER_PROTOCOL', 'http://'),
                'force_server_vars' => false,
                'server_name' => setting('PHPBB_SERVER_NAME', 'localhost'),
                'server_port' => (int) setting('PHPBB_SERVER_PORT', '8080'),
                'script_path' => '/',
            ],
            'extensions' => [],
        ]];
        echo json_encode($config, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
        exit(0);

    case 'write-config':
        $target = $argv[2] ?? '/var/www/phpbb/config.php';
        $lines = [
            '<?php',
            '// Written by the AtSync phpBB container at start from its environment.',
            '$dbms = ' . var_export('phpbb\\db\\driver\\mysqli', true) . ';',
            '$dbhost = ' . var_export(setting('PHPBB_DB_HOST'), true) . ';',
            '$dbport = ' . var_export(setting('PHPBB_DB_PORT', '3306'), true) . ';',
            '$dbname = ' . var_export(setting('PHPBB_DB_NAME'), true) . ';',
            '$dbuser = ' . var_export(setting('PHPBB_DB_USER'), true) . ';',
            '$dbpasswd = ' . var_export(setting('PHPBB_DB_PASSWORD'), true) . ';',
            '$table_prefix = ' . var_export(prefix(), true) . ';',
            '$phpbb_adm_relative_path = ' . var_export('adm/', true) . ';',
            '$acm_type = ' . var_export('phpbb\\cache\\driver\\file', true) . ';',
            '',
            "@define('PHPBB_INSTALLED', true);",
            "@define('PHPBB_ENVIRONMENT', 'production');",
            '',
        ];
        $temporary = $target . '.tmp';
        if (file_put_contents($temporary, implode("\n", $lines)) === false || !chmod($temporary, 0640) || !rename($temporary, $target)) {
            fwrite(STDERR, "atsync-phpbb: cannot write $target\n");
            exit(1);
        }
        exit(0);

    default:
        fwrite(STDERR, "usage: atsync-phpbb.php wait-db|installed|install-config|write-config [path]\n");
        exit(64);
}
