from django.urls import path

from apps.core import views

urlpatterns = [
    path("health", views.health_view, name="health"),
    path("health/live", views.live, name="health-live"),
    path("health/ready", views.ready, name="health-ready"),
    path("health/db", views.health_db, name="health-db"),
    path("health/redis", views.health_redis, name="health-redis"),
    path("api/health/", views.api_health, name="api-health"),
    path("api/health/detailed", views.api_health_detailed, name="api-health-detailed"),
    path("api/v1/info", views.info, name="info"),
]
