from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The ground floor: errors, API plumbing, the company calendar, form/view helpers and email delivery.

    It imports no other app of the project; every app may import it.
    """

    name = "core"
    verbose_name = _("System")
    default_auto_field = "django.db.models.BigAutoField"
