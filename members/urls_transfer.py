from django.urls import path  # noqa: F401

# Members CSV export and import (members/views/transfer.py).
urlpatterns: list = []
