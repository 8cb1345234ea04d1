#!/bin/sh
# AtSync phpBB entrypoint: wait for the database, install phpBB unattended on the first start (empty database) with
# phpBB's CLI installer, otherwise write config.php from the environment; then hand over to the command (Apache).
set -eu
root=/var/www/phpbb
helper=/usr/local/lib/atsync/atsync-phpbb.php

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
