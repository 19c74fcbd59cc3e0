"""The Celery application shared by the web process, the workers and beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hangar")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Pipelines and webhooks keep their tasks beside the deployments app's own tasks.py.
app.autodiscover_tasks(related_name="tasks_pipelines")
