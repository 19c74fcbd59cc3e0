"""Hangar's Django project package (named config, not platform: see the README)."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
