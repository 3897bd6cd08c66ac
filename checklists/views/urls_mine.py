"""Routes of My checklists and the run pages."""

from django.urls import path

from checklists.views import mine

urlpatterns = [
    path("", mine.mine, name="mine"),
    path("runs/<int:run_id>/", mine.run, name="run"),
    path("items/<int:run_item_id>/tick/", mine.item_tick, name="item-tick"),
    path("items/<int:run_item_id>/untick/", mine.item_untick, name="item-untick"),
]
