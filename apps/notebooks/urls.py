"""Routes of the notebooks app."""

urlpatterns: list = []
