from django.apps import AppConfig


class IdentityProviderConfig(AppConfig):
    name = "tests.idp"
    label = "idp"
