from django.urls import path

from chat import health, views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("c/<int:pk>/export.json", views.export_json, name="export_json"),
    path("c/<int:pk>/export.md", views.export_md, name="export_md"),
]
