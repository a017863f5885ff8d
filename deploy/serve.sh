#!/bin/sh
# Production serving on one machine (`make serve`): DEBUG off, static files collected for
# whitenoise, deployment checks printed, then gunicorn with workers/threads from the environment
# (kb/gunicorn.conf.py). Without SECRET_KEY or SECRET_KEY_FILE a random key is generated once
# into $KB_VAR_DIR/secret_key (mode 600) and reused, so sessions survive restarts.
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export DEBUG=false
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  key="${KB_VAR_DIR:-var}/secret_key"
  if [ ! -s "$key" ]; then
    mkdir -p "$(dirname "$key")"
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$key")
    echo "serve: generated a secret key in $key"
  fi
  export SECRET_KEY_FILE="$key"
fi
"$PY" manage.py collectstatic --noinput --verbosity 0
# Prints what is not production-grade (on plain HTTP: HSTS, secure cookies); fails on errors.
"$PY" manage.py check --deploy
exec "$PY" -m gunicorn --config kb/gunicorn.conf.py kb.wsgi:application
