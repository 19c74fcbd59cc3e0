"""Routes of the credits app."""

urlpatterns: list = []
