"""The JavaScript translation catalogue: window.gettext and friends for the site's scripts, cached."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

# Translations change only with a deploy, that is with a restart.
STARTED = timezone.now().replace(microsecond=0)
CATALOGUE_MAX_AGE = 24 * 3600

# cache_page keys on the active language as well as the URL; the URL carries the language and the
# start time too (catalogue_url), so a browser's cached copy never outlives a switch or a deploy.
javascript_catalog = cache_page(CATALOGUE_MAX_AGE)(
    last_modified(lambda request, **kwargs: STARTED)(JavaScriptCatalog.as_view())
)


def catalogue_url(request: HttpRequest) -> dict:
    """The catalogue's address for the page's language: <script src="{{ javascript_catalog_url }}" defer>."""
    query = urlencode({"l": get_language(), "v": int(STARTED.timestamp())})
    return {"javascript_catalog_url": f"{reverse('javascript-catalog')}?{query}"}
