from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_delete

        from chat.attachments import cleanup, pinning
        from chat.lib import checks  # noqa: F401  (checks register themselves)
        from chat.models import Assistant, Attachment, Project, freshness
        from chat.realtime import signals

        user_model = get_user_model()
        post_save.connect(signals.user_saved, sender=user_model, dispatch_uid="chat.user_saved")
        pre_delete.connect(signals.user_deleted, sender=user_model, dispatch_uid="chat.user_deleted")
        user_logged_out.connect(signals.user_logged_out, dispatch_uid="chat.user_logged_out")
        # Whatever deletes an attachment (its conversation, its owner, the sweep) deletes its files.
        post_delete.connect(
            cleanup.attachment_deleted, sender=Attachment, dispatch_uid="chat.attachment_deleted"
        )
        # Deleting an assistant or a project deletes its pinned files that nothing else uses.
        for holder in (Assistant, Project):
            uid = f"chat.{holder.__name__}.files"
            pre_delete.connect(pinning.holder_deleting, sender=holder, dispatch_uid=f"{uid}.deleting")
            post_delete.connect(pinning.holder_deleted, sender=holder, dispatch_uid=f"{uid}.deleted")
        # Every change a send's cached facts depend on writes a new stamp.
        freshness.watch()
