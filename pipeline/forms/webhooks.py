"""The director's form for a webhook endpoint or group robot; the service checks the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from pipeline.models import WebhookEndpoint
from pipeline.services.webhooks import SUBSCRIBABLE_EVENTS

Event = WebhookEndpoint.Event


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=WebhookEndpoint.Kind.choices)
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("For a robot: the webhook address its group settings show."),
    )
    secret = forms.CharField(
        label=_("Secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event, label) for event, label in Event.choices if event in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.active().order_by("name"),
        required=False,
        empty_label=_("Whole company"),
        help_text=_("A robot bound to a team gets that team's events, its members' reminders and its summary."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=WebhookEndpoint.Language.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, endpoint: WebhookEndpoint | None = None, **kwargs) -> None:
        if endpoint is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": endpoint.name,
                    "kind": endpoint.kind,
                    "url": endpoint.url,
                    "events": endpoint.events,
                    "team": endpoint.team_id,
                    "language": endpoint.language,
                    "is_active": endpoint.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["secret"].help_text = (
            _("Leave empty to keep the current secret.")
            if endpoint is not None
            else _("Webhook: leave empty to have one generated. DingTalk: the robot's signing secret (SEC…).")
        )
