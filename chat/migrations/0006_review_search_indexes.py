"""Full-text search indexes for review, on PostgreSQL only (SQLite searches with a plain LIKE).

Built CONCURRENTLY, so a site with many messages keeps saving replies while they are built. The
expressions must stay those of chat.review_search (SEARCH_CONFIG and the searched fields): the
planner uses an expression index only for the very same expression.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"  # chat.review_search.SEARCH_CONFIG


def indexes(apps):
    return [
        (apps.get_model("chat", "Message"), GinIndex(SearchVector("content", config=CONFIG), name="message_search")),
        (
            apps.get_model("chat", "Conversation"),
            GinIndex(SearchVector("title", config=CONFIG), name="conversation_title_search"),
        ),
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in indexes(apps):
        schema_editor.add_index(model, index, concurrently=True)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in indexes(apps):
        schema_editor.remove_index(model, index, concurrently=True)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("chat", "0005_review_reviewers_group")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
