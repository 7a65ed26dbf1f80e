"""/api/v1/: the OpenAI-compatible endpoint for scripts, with personal tokens."""

urlpatterns: list = []
