#!/usr/bin/env bash
# Starts one Hangar process; the image is the same for all of them, the first argument picks which.
set -euo pipefail

case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    python manage.py seed
    exec daphne -b 0.0.0.0 -p 8000 config.asgi:application
    ;;
  worker)
    exec celery -A config worker -l INFO
    ;;
  beat)
    # The database scheduler is configured in settings (CELERY_BEAT_SCHEDULER).
    exec celery -A config beat -l INFO
    ;;
  *)
    exec "$@"
    ;;
esac
