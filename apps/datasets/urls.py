"""Routes of the datasets app."""

urlpatterns: list = []
