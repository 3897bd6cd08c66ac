"""The checklists app's pages; each view module owns its list of routes."""

from checklists.views import urls_mine, urls_team, urls_templates

app_name = "checklists"

urlpatterns = [*urls_mine.urlpatterns, *urls_team.urlpatterns, *urls_templates.urlpatterns]
