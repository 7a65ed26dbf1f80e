"""/api/v1/: the OpenAI-compatible endpoint for scripts, with personal tokens (docs/api.md)."""

from django.urls import path

from chat.api import views

urlpatterns = [
    path("models", views.models, name="api_models"),
    path("chat/completions", views.chat_completions, name="api_chat_completions"),
]
