from django.urls import path

from members.views import squads

# Squads inside a community (members/views/squads.py); listed on the community page.
urlpatterns = [
    path("squads/<slug:community_slug>/new/", squads.squad_create, name="squad-create"),
]
