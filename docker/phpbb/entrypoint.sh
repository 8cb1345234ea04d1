#!/bin/sh
# AtSync phpBB entrypoint: wait for the database, install phpBB unattended on the first start (empty database) with
# phpBB's CLI installer, otherwise write config.php from the environment; then hand over to the command (Apache).
set -eu
root=/var/www/phpbb
helper=/usr/local/lib/atsync/atsync-phpbb.php

# <NAME>_FILE (Docker secrets, docker-compose.secrets.yml): NAME is read from the file it names, as the official
# database images do; one of the two, never both. Only the names are printed, never a value.
file_env() {
  name=$1
  eval "file=\${${name}_FILE:-}"
  eval "value=\${${name}:-}"
  [ -n "$file" ] || return 0
  if [ -n "$value" ]; then
    echo "atsync-phpbb: $name and ${name}_FILE are both set (use one)" >&2
    exit 2
  fi
  if [ ! -r "$file" ]; then
    echo "atsync-phpbb: ${name}_FILE names a file that cannot be read" >&2
    exit 2
  fi
  value=$(cat "$file")
  export "$name=$value"
  unset "${name}_FILE"
}
file_env PHPBB_DB_PASSWORD
file_env PHPBB_ADMIN_PASSWORD

php "$helper" wait-db

set +e
php "$helper" installed
state=$?
set -e

case "$state" in
  0)
    echo "atsync-phpbb: board already installed; writing config.php"
    php "$helper" write-config "$root/config.php"
    ;;
  1)
    echo "atsync-phpbb: empty database; installing phpBB"
    config=$(mktemp /tmp/phpbb-install-XXXXXX.yml)
    trap 'rm -f "$config"' EXIT
    php "$helper" install-config > "$config"
    # The installer writes config.php itself.
    php "$root/install/phpbbcli.php" install "$config"
    rm -f "$config"
    trap - EXIT
    echo "atsync-phpbb: installed"
    ;;
  *)
    echo "atsync-phpbb: cannot tell whether phpBB is installed" >&2
    exit 1
    ;;
esac

# phpBB refuses to serve the board while its installer is present.
rm -rf "$root/install"

exec "$@"
