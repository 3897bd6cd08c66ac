"""Routes of urls_team."""

urlpatterns: list = []
