from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"demo": settings.TOKENOFF_DEMO, "review_enabled": settings.TOKENOFF_REVIEW_ENABLED}
