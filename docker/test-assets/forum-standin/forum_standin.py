"""phpBB STAND-IN for the AtSync deployment test (not phpBB; phpBB cannot be fetched where the test runs).

On start it waits for the database named by the phpBB image's settings (PHPBB_DB_HOST, PHPBB_DB_PORT, PHPBB_DB_NAME,
PHPBB_DB_USER, PHPBB_DB_PASSWORD, PHPBB_TABLE_PREFIX); on an empty database it does what phpBB's installer does to
the tables AtSync uses: creates phpBB 3.3's tables (phpbb33-schema.sql) and the installer's rows (installer-data.sql,
the admin account from PHPBB_ADMIN_USER / PHPBB_ADMIN_PASSWORD / PHPBB_ADMIN_EMAIL). Then it serves phpBB's health
path, GET /healthz.php, with the check of docker/phpbb/healthz.php: 200 "healthy" when the board's config row
'version' is readable, else 503 "unhealthy"; nothing else is revealed. Port: FORUM_STANDIN_PORT (8080, as phpBB's).
"""
import http.server
import os
import signal
import sys
import time

import bcrypt
import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = os.environ.get("PHPBB_TABLE_PREFIX", "phpbb_")


def log(message):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + " forum-standin: " + message, flush=True)


def secret(name, default=None):
    """NAME, or the content of the file NAME_FILE names (Docker secrets; docker/phpbb/entrypoint.sh does the same)."""
    path = os.environ.get(name + "_FILE")
    if path:
        if os.environ.get(name):
            sys.exit(f"forum-standin: {name} and {name}_FILE are both set (use one)")
        with open(path, encoding="utf-8") as f:
            return f.read().rstrip("\n")
    return os.environ[name] if default is None else os.environ.get(name, default)


def connect():
    # FORUM_STANDIN_DB_TLS_CA (test only): the database refuses connections without TLS.
    ca = os.environ.get("FORUM_STANDIN_DB_TLS_CA")
    return pymysql.connect(
        host=os.environ.get("PHPBB_DB_HOST", "mysql"), port=int(os.environ.get("PHPBB_DB_PORT", "3306")),
        user=os.environ["PHPBB_DB_USER"], password=secret("PHPBB_DB_PASSWORD"),
        database=os.environ.get("PHPBB_DB_NAME", "phpbb"), charset="utf8mb4", connect_timeout=5, read_timeout=10,
        write_timeout=10, autocommit=True, ssl={"ca": ca, "check_hostname": False} if ca else None)


def statements(path):
    """The script's statements: '--' comment lines dropped, split on ';' (the convention of AtSync.Tests' PhpbbSchema)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for part in text.split(";"):
        body = "\n".join(line for line in part.split("\n") if not line.lstrip().startswith("--")).strip()
        if body:
            yield body.replace("phpbb_", PREFIX)


def installed(cursor):
    try:
        cursor.execute(f"SELECT config_value FROM `{PREFIX}config` WHERE config_name = 'version'")
        return cursor.fetchone() is not None
    except pymysql.err.ProgrammingError:
        return False


def install(connection):
    admin = os.environ.get("PHPBB_ADMIN_USER", "admin")
    password = secret("PHPBB_ADMIN_PASSWORD", "")
    if not password:
        log("PHPBB_ADMIN_PASSWORD is not set")
        sys.exit(2)
    # phpBB 3.3 stores bcrypt as $2y$ (passwords_manager, driver bcrypt_2y).
    hashed = "$2y$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode()[4:]
    values = {
        "{NOW}": str(int(time.time())),
        "{ADMIN_NAME}": connection.escape(admin),
        "{ADMIN_NAME_CLEAN}": connection.escape(admin.lower()),
        "{ADMIN_EMAIL}": connection.escape(os.environ.get("PHPBB_ADMIN_EMAIL", "admin@example.com")),
        "{ADMIN_PASSWORD_HASH}": connection.escape(hashed),
    }
    with connection.cursor() as cursor:
        for statement in statements(os.path.join(HERE, "phpbb33-schema.sql")):
            cursor.execute(statement)
        connection.begin()
        for statement in statements(os.path.join(HERE, "installer-data.sql")):
            for key, value in values.items():
                statement = statement.replace(key, value)
            cursor.execute(statement)
        connection.commit()


def prepare():
    while True:
        try:
            connection = connect()
            break
        except pymysql.err.MySQLError as error:
            log(f"database not reachable yet (error {error.args[0] if error.args else '?'}); retrying")
            time.sleep(1)
    with connection, connection.cursor() as cursor:
        if installed(cursor):
            log("board already installed")
        else:
            log("empty database; creating phpBB 3.3's tables and the installer's rows")
            install(connection)
            log("installed")


class Health(http.server.BaseHTTPRequestHandler):
    server_version = "forum-standin"
    sys_version = ""

    def do_GET(self):
        if self.path.split("?")[0] != "/healthz.php":
            self.answer(404, "not found\n")
            return
        ok = False
        try:
            with connect() as connection, connection.cursor() as cursor:
                ok = installed(cursor)
        except pymysql.err.MySQLError:
            ok = False
        self.answer(200 if ok else 503, "healthy\n" if ok else "unhealthy\n")

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def stop(*_):
    raise KeyboardInterrupt  # docker stop: leave serve_forever and exit 0


def main():
    prepare()
    port = int(os.environ.get("FORUM_STANDIN_PORT", "8080"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1" if os.environ.get("FORUM_STANDIN_LOOPBACK") else "0.0.0.0", port), Health)
    log(f"serving /healthz.php on port {port}")
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("stopping")


if __name__ == "__main__":
    main()
