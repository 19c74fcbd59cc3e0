from django.urls import path

from apps.activity import views

urlpatterns = [
    path("activity", views.ActivityView.as_view(), name="activity"),
    path("admin/activity", views.AdminActivityView.as_view(), name="admin-activity"),
]
