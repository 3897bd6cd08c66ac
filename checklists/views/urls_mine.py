"""Routes of My checklists and the run pages."""

from django.urls import path

from checklists.views import mine

urlpatterns = [
    path("", mine.mine, name="mine"),
    path("runs/<int:run_id>/", mine.run, name="run"),
]
