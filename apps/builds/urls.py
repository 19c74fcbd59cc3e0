"""Routes of the builds app."""

urlpatterns: list = []
