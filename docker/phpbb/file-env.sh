# Secrets as files, the convention of the official database images (their docker-entrypoint.sh `file_env`):
# `file_env NAME` sets NAME from the file named by NAME_FILE (e.g. a Docker secret at /run/secrets/…), with one
# trailing newline dropped, and unsets NAME_FILE. Setting both, or naming a file that cannot be read or is empty,
# stops the container with one line naming the setting (never its value). POSIX sh: sourced by entrypoint.sh.
file_env() {
  _fe_var="$1"
  _fe_file_var="${1}_FILE"
  eval "_fe_value=\${$_fe_var:-}"
  eval "_fe_file=\${$_fe_file_var:-}"
  if [ -n "$_fe_value" ] && [ -n "$_fe_file" ]; then
    echo "atsync-phpbb: both $_fe_var and $_fe_file_var are set; set only one" >&2
    exit 2
  fi
  if [ -n "$_fe_file" ]; then
    if [ ! -r "$_fe_file" ] || [ ! -f "$_fe_file" ]; then
      echo "atsync-phpbb: $_fe_file_var names a file that cannot be read" >&2
      exit 2
    fi
    # $(cat) drops every trailing newline; the services drop one, and a secret never ends in a newline on purpose.
    _fe_value=$(cat "$_fe_file"; printf x)
    _fe_value=${_fe_value%x}
    _fe_value=${_fe_value%"
"}
    if [ -z "$_fe_value" ]; then
      echo "atsync-phpbb: $_fe_file_var names an empty file" >&2
      exit 2
    fi
    export "$_fe_var=$_fe_value"
  fi
  unset "$_fe_file_var" _fe_var _fe_file_var _fe_value _fe_file
}

# The secret settings of this image.
ATSYNC_PHPBB_SECRETS="PHPBB_DB_PASSWORD PHPBB_ADMIN_PASSWORD"
