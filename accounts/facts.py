"""Facts about an account or a contact that are not one row's own fields: customer type and contact-style advice."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

CUSTOMER_TYPE_LABELS = {
    "ours": gettext_lazy("Ours"),
    "competitor": gettext_lazy("Competitor"),
    "mixed": gettext_lazy("Mixed"),
    "none": gettext_lazy("None"),
}


def customer_type_for(*, our_units: int, competitor_units: int) -> str:
    """SPEC §2's customer type from installed units: ours, competitor, mixed or none."""
    if our_units and competitor_units:
        return "mixed"
    if our_units:
        return "ours"
    return "competitor" if competitor_units else "none"
