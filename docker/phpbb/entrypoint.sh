#!/bin/sh
# AtSync phpBB entrypoint: wait for the database, install phpBB unattended on the first start (empty database) with
# phpBB's CLI installer, otherwise write config.php from the environment; then hand over to the command (Apache).
# Secrets can come as files (PHPBB_DB_PASSWORD_FILE, PHPBB_ADMIN_PASSWORD_FILE: file-env.sh).
set -eu
# The image's paths; ATSYNC_PHPBB_ROOT and ATSYNC_LIB move them for the shell-level test (PhpbbEntrypointTests).
root=${ATSYNC_PHPBB_ROOT:-/var/www/phpbb}
lib=${ATSYNC_LIB:-/usr/local/lib/atsync}
helper=$lib/atsync-phpbb.php
. "$lib/file-env.sh"
for secret in $ATSYNC_PHPBB_SECRETS; do
  file_env "$secret"
done

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

# config.php now holds what phpBB needs; Apache and PHP's pages never see the secrets in their environment.
unset $ATSYNC_PHPBB_SECRETS
exec "$@"
