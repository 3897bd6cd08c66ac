"""``/api/v1/``: the metrics API (``analytics.api``). The ingest webhook shares the prefix
but lives in ``activities.urls`` (``api/v1/ingest/…``); no pattern here starts with it."""

from django.urls import path

from analytics import api

app_name = "api"

urlpatterns = [
    path("communities", api.communities, name="communities"),
    path("communities/<slug:community_slug>/metrics", api.community_metrics, name="metrics"),
    path("communities/<slug:community_slug>/<str:metric>.csv", api.metric_csv, name="metric-csv"),
    path("portfolio", api.portfolio, name="portfolio"),
    path("openapi.json", api.openapi_document, name="openapi"),
]
