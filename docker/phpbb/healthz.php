<?php
// Readiness for the container health check: phpBB is installed and its database answers. No detail is revealed.
declare(strict_types=1);
header('Content-Type: text/plain');
header('Cache-Control: no-store');
$ok = false;
if (is_file(__DIR__ . '/config.php')) {
    include __DIR__ . '/config.php';
    mysqli_report(MYSQLI_REPORT_OFF);
    $db = @new mysqli($dbhost ?? '', $dbuser ?? '', $dbpasswd ?? '', $dbname ?? '', (int) ($dbport ?? 3306));
    if ($db->connect_errno === 0) {
        $result = $db->query('SELECT config_value FROM ' . $table_prefix . "config WHERE config_name = 'version'");
        $ok = $result !== false && $result->num_rows === 1;
        $db->close();
    }
}
http_response_code($ok ? 200 : 503);
echo $ok ? "healthy\n" : "unhealthy\n";
