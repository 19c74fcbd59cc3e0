"""Routes of the jobs app."""

urlpatterns: list = []
