#!/bin/bash
# The official mysql image's entrypoint contract, for MariaDB (deployment test stand-in):
# - arguments starting with '-' are passed to the server;
# - on an empty data directory: MYSQL_ROOT_PASSWORD (required) for root@localhost and root@'%', MYSQL_DATABASE,
#   MYSQL_USER / MYSQL_PASSWORD with ALL on that database, then /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz in
#   name order (SQL as root, with MYSQL_DATABASE as the default database), on a server that listens on no port;
# - then the server runs in the foreground as PID 1's exec (signals reach it; SIGTERM shuts it down cleanly).
# No password is written to the log or to a command line.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
if [ "$1" = mysqld ]; then shift; set -- mariadbd "$@"; fi
# Stand-in only (host networking in the deployment test): the port and address to listen on, added after the compose
# file's own arguments (its `command:`), which pass through unchanged.
# MYSQL_STANDIN_TLS_DIR holds cert.pem, key.pem and ca.pem made by the test: the server offers TLS (as mysql:8.4.7
# does with its own certificate) and refuses connections without it, so a service that connects shows it used TLS.
if [ "$1" = mariadbd ]; then
  [ -n "${MYSQL_STANDIN_PORT:-}" ] && set -- "$@" --port="$MYSQL_STANDIN_PORT"
  [ -n "${MYSQL_STANDIN_BIND_ADDRESS:-}" ] && set -- "$@" --bind-address="$MYSQL_STANDIN_BIND_ADDRESS"
  if [ -n "${MYSQL_STANDIN_TLS_DIR:-}" ]; then
    set -- "$@" --ssl-cert="$MYSQL_STANDIN_TLS_DIR/cert.pem" --ssl-key="$MYSQL_STANDIN_TLS_DIR/key.pem" \
      --ssl-ca="$MYSQL_STANDIN_TLS_DIR/ca.pem" --require-secure-transport=ON
  fi
fi

# <NAME>_FILE (Docker secrets), as the official image reads its passwords: one of the two, never both.
file_env() {
  local name=$1 file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then
    if [ -n "${!name:-}" ]; then
      echo "error: both $name and $file_var are set (but are exclusive)" >&2
      exit 1
    fi
    export "$name=$(<"${!file_var}")"
    unset "$file_var"
  fi
}
file_env MYSQL_ROOT_PASSWORD
file_env MYSQL_PASSWORD

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) [Entrypoint]: $*" >&2; }
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock

if [ "$1" = mariadbd ] && [ ! -d "$datadir/mysql" ]; then
  if [ -z "${MYSQL_ROOT_PASSWORD:-}" ]; then
    log "error: database is uninitialized and MYSQL_ROOT_PASSWORD is not set"
    exit 1
  fi
  log "Initializing database files"
  mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve >/dev/null
  log "Starting a temporary server (no network)"
  "$@" --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 300); do
    mariadb-admin --socket="$socket" -uroot ping --silent >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { log "error: the temporary server exited"; exit 1; }
    sleep 0.2
  done
  # Credentials for the init clients go in an option file, never on a command line.
  defaults=$(mktemp /tmp/entrypoint-XXXXXX.cnf)
  trap 'rm -f "$defaults"' EXIT
  quote() { printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g"; }
  sql() { mariadb --defaults-extra-file="$defaults" --socket="$socket" -uroot --protocol=socket "$@"; }
  root_password=$(quote "$MYSQL_ROOT_PASSWORD")
  mariadb --socket="$socket" -uroot --protocol=socket <<SQL
    DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'));
    ALTER USER 'root'@'localhost' IDENTIFIED BY '${root_password}';
    CREATE USER 'root'@'%' IDENTIFIED BY '${root_password}';
    GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
    FLUSH PRIVILEGES;
SQL
  printf '[client]\npassword="%s"\n' "$(printf '%s' "$MYSQL_ROOT_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')" >"$defaults"
  if [ -n "${MYSQL_DATABASE:-}" ]; then
    log "Creating database ${MYSQL_DATABASE}"
    sql -e "CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE//\`/\`\`}\`;"
  fi
  if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
    log "Creating user ${MYSQL_USER}"
    user=$(quote "$MYSQL_USER")
    sql <<SQL
      CREATE USER '${user}'@'%' IDENTIFIED BY '$(quote "$MYSQL_PASSWORD")';
SQL
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      log "Giving user ${MYSQL_USER} access to schema ${MYSQL_DATABASE}"
      sql -e "GRANT ALL ON \`${MYSQL_DATABASE//\`/\`\`}\`.* TO '${user}'@'%';"
    fi
  fi
  database_arg=()
  [ -n "${MYSQL_DATABASE:-}" ] && database_arg=(--database="$MYSQL_DATABASE")
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) log "running $f"; . "$f" ;;
      *.sql) log "running $f"; sql "${database_arg[@]}" <"$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | sql "${database_arg[@]}" ;;
      *) [ -e "$f" ] && log "ignoring $f" ;;
    esac
  done
  log "Stopping the temporary server"
  mariadb-admin --defaults-extra-file="$defaults" --socket="$socket" -uroot shutdown
  wait "$pid" || true
  rm -f "$defaults"
  trap - EXIT
  log "Database initialized"
fi

exec "$@"
