"""The admin, made part of the product: the site's name and colours, and a way back to the chat.

keys.py: API keys (write-only, masked, tested, re-encrypted); catalogue.py: the models, their
parameters and who may use them; people.py: users, invitations, groups and the site settings;
budgets.py: monthly budgets and spend; review.py: the audit trail, flags and the review notice;
lockouts.py: django-axes' log-in records, for superusers only; api_tokens.py: members' personal API tokens.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from chat.admin import api_tokens, assistants, budgets, catalogue, keys, lockouts, people, review, sharing  # noqa: F401  (each registers its models)

admin.site.site_header = "TokenOff Chat"
admin.site.site_title = _("TokenOff Chat admin")
admin.site.index_title = _("Run the site")
admin.site.site_url = "/"
# Django's password pages with the top bar's links of every other page (templates/admin/userlinks.html).
admin.site.password_change_template = "admin/password_change_form.html"  # noqa: S105 (a template)
admin.site.password_change_done_template = "admin/password_change_done.html"  # noqa: S105
# A few models only: the front page lists them, and every list gets the full width.
admin.site.enable_nav_sidebar = False
