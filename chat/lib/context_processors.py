from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def site(request: HttpRequest) -> dict:
    from chat.models import SiteSettings

    # Lazy: only the pages that show a switch (the log-in page's sign-up link) read it.
    return {
        "demo": settings.TOKENOFF_DEMO,
        "review_enabled": settings.TOKENOFF_REVIEW_ENABLED,
        "site_settings": SimpleLazyObject(SiteSettings.current),
    }
