"""What the site asks the upstream about its own rows: whether a key works, and which models it offers.

The models never call the network themselves: admin actions, views and commands come here.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.utils import timezone

from chat.models import ApiKey, ChatModel
from chat.models.catalogue import CatalogueSync
from chat.upstream import client


def check_key(key: ApiKey) -> client.KeyCheck:
    """Ask the upstream's /models whether it takes this key, and keep the answer on the row."""
    outcome = async_to_sync(client.check_key)(key)
    key.checked, key.check_result, key.check_detail = timezone.now(), outcome.result, outcome.detail
    ApiKey.objects.filter(pk=key.pk).update(
        checked=key.checked, check_result=key.check_result, check_detail=key.check_detail[:200]
    )
    return outcome


def sync_catalogue() -> CatalogueSync:
    """Ask the upstream which models it offers (with the team key, else any key) and sync."""
    entries = async_to_sync(client.list_model_entries)(ApiKey.objects.for_catalogue())
    return ChatModel.sync([entry["id"] for entry in entries], {entry["id"]: entry for entry in entries})
