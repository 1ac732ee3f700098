from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: errors, API plumbing, the company calendar, form/view helpers and email delivery.

    It imports no other app of the project; every app may import it.
    """

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
