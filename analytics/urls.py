from django.urls import path

from analytics.views import community, portfolio

app_name = "analytics"

urlpatterns = [
    path("", portfolio.portfolio, name="home"),
    path("portfolio.csv", portfolio.portfolio_csv, name="portfolio-csv"),
    path("<slug:community_slug>/", community.community_analytics, name="community"),
    path("<slug:community_slug>/members/", community.drilldown_members, name="members"),
    path("<slug:community_slug>/members/tag/", community.tag_members, name="tag-members"),
    path("<slug:community_slug>/export/<str:chart>.csv", community.chart_csv, name="chart-csv"),
]
