from django.urls import path

from members.views import transfer

# Members CSV export and import (members/views/transfer.py); the format is in members/transfer.py.
urlpatterns = [
    path("export/<slug:community_slug>.csv", transfer.member_export, name="export"),
    path("import/<slug:community_slug>/", transfer.member_import, name="import"),
]
