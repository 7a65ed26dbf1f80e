from django.urls import path

from chat import health, usage_views, views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("usage/", usage_views.mine, name="usage"),
    path("usage/team/", usage_views.team, name="usage_team"),
    path("usage/team.csv", usage_views.team_csv, name="usage_team_csv"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("c/<int:pk>/export.json", views.export_json, name="export_json"),
    path("c/<int:pk>/export.md", views.export_md, name="export_md"),
]
