"""Dependency checks behind the health routes."""

import os
import time

import psutil
from django.conf import settings
from django.core.cache import cache
from django.db import connection

STARTED_AT = time.time()


def uptime_seconds() -> float:
    """Seconds since this process loaded Hangar."""
    return round(time.time() - STARTED_AT, 2)


def check_database() -> str | None:
    """None when the database answers, else the error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message is reported
        return str(exc) or exc.__class__.__name__
    return None


def check_cache() -> str | None:
    """None when the cache round-trips a value, else the error."""
    try:
        cache.set("hangar:health", "ok", timeout=5)
        if cache.get("hangar:health") != "ok":
            return "cache did not return the value it stored"
    except Exception as exc:  # a Redis outage surfaces as several exception types
        return str(exc) or exc.__class__.__name__
    return None


def check_redis() -> str | None:
    """None when Redis answers PING, else the error. Only meaningful when REDIS_URL is set."""
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:  # connection, auth and timeout errors all mean "down"
        return str(exc) or exc.__class__.__name__
    return None


def check_broker() -> str | None:
    """None when the Celery broker accepts a connection, else the error."""
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return str(exc) or exc.__class__.__name__
    return None


def system_metrics() -> dict:
    """Memory and CPU of the host, from psutil, in 002's shape."""
    memory = psutil.virtual_memory()
    mb = 1024 * 1024
    return {
        "memory": {
            "used": round((memory.total - memory.available) / mb, 2),
            "total": round(memory.total / mb, 2),
            "percent": memory.percent,
            "unit": "MB",
        },
        "cpu": {"usage_percent": psutil.cpu_percent(interval=0.1), "count": psutil.cpu_count()},
        "platform": os.name,
    }
