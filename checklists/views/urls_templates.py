"""Routes of urls_templates."""

urlpatterns: list = []
