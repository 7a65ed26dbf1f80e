"""Share links: the owner's actions on a conversation, the snapshot at /s/<token>/, and the list of links."""

from django.urls import path

from chat.sharing import links, views

urlpatterns = [
    path("c/<id:pk>/share/", views.share, name="share"),
    path("c/<id:pk>/share/revoke/", views.revoke, name="share_revoke"),
    path("s/<str:token>/", views.snapshot, name="share_snapshot"),
    path("s/<str:token>/attachments/<str:pk>/", views.attachment_file, name="share_attachment"),
    path(
        "s/<str:token>/attachments/<str:pk>/thumbnail/",
        views.attachment_thumbnail,
        name="share_attachment_thumbnail",
    ),
    path("shares/", links.share_list, name="share_list"),
    path("shares/<id:pk>/revoke/", links.revoke, name="share_list_revoke"),
]
