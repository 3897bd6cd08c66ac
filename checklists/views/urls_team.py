"""Routes of the team view: completion per community, moderator and template; the overdue
list and reassigning a run."""

from django.urls import path

from checklists.views import team

urlpatterns = [
    path("team/", team.team, name="team"),
    path("team.csv", team.team_csv, name="team-csv"),
    path("runs/<int:run_id>/reassign/", team.run_reassign, name="run-reassign"),
]
