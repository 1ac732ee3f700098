"""What a group robot posts: an event, a reminder or a summary as a markdown message in the endpoint's language, in
the JSON each robot API takes (WeCom: msgtype markdown + content; DingTalk: msgtype markdown + title and text).

Events are rendered when they are sent, from the payload alone (no query); reminders and summaries arrive rendered
(their delivery's payload holds `title` and `text`).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from pipeline.models import Opportunity, Visit, WebhookEndpoint

Event = WebhookEndpoint.Event


def _stage_name(stage: dict | None) -> str:
    if not stage:
        return ""
    return (stage.get("name_en") if translation.get_language() == "en" else stage.get("name_zh")) or stage["code"]


def _person(user: dict | None) -> str:
    return user["name"] if user else "—"


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _opportunity_lines(data: dict) -> tuple[str, list[str]]:
    o = data["opportunity"]
    lines = [
        gettext("Account: %(account)s") % {"account": o["account"]["name"]},
        gettext("Amount: ¥%(amount)s") % {"amount": f"{float(o['amount']):,.0f}"},
        gettext("Owner: %(owner)s") % {"owner": _person(o["owner"])},
    ]
    return o["name"], lines


def render_event(event: str, data: dict[str, Any]) -> tuple[str, str]:
    """(title, markdown text) of an event in the active language; runs no query."""
    link = None
    if event in (Event.OPPORTUNITY_CREATED, Event.OPPORTUNITY_STAGE_CHANGED, Event.OPPORTUNITY_WON):
        name, lines = _opportunity_lines(data)
        link = data["opportunity"]["url"]
        title = {
            Event.OPPORTUNITY_CREATED: gettext("New opportunity: %(name)s"),
            Event.OPPORTUNITY_STAGE_CHANGED: gettext("Stage changed: %(name)s"),
            Event.OPPORTUNITY_WON: gettext("Won: %(name)s"),
        }[event] % {"name": name}
        if event == Event.OPPORTUNITY_STAGE_CHANGED:
            lines.append(
                gettext("Stage: %(from)s → %(to)s")
                % {"from": _stage_name(data.get("from_stage")), "to": _stage_name(data.get("to_stage"))}
            )
        else:
            lines.append(gettext("Stage: %(stage)s") % {"stage": _stage_name(data["opportunity"]["stage"])})
    elif event == Event.OPPORTUNITY_LOST:
        name, lines = _opportunity_lines(data)
        link = data["opportunity"]["url"]
        title = gettext("Lost: %(name)s") % {"name": name}
        reason = data["opportunity"]["loss_reason"]
        lines.append(gettext("Reason: %(reason)s") % {"reason": _label(Opportunity.LossReason, reason)})
        if data["opportunity"]["lost_to"]:
            lines.append(gettext("Lost to: %(competitor)s") % {"competitor": data["opportunity"]["lost_to"]})
    elif event == Event.VISIT_DONE:
        v = data["visit"]
        link = v["url"]
        title = gettext("Visit done: %(account)s") % {"account": v["account"]["name"]}
        lines = [
            gettext("By: %(owner)s") % {"owner": _person(v["owner"])},
            gettext("Kind: %(kind)s") % {"kind": _label(Visit.Kind, v["kind"])},
        ]
        if v["summary"]:
            lines.append(gettext("Outcome: %(summary)s") % {"summary": v["summary"]})
        if v["next_step"]:
            lines.append(gettext("Next step: %(step)s") % {"step": v["next_step"]})
    elif event == Event.ACCOUNT_REASSIGNED:
        link = data["account"]["url"]
        title = gettext("Account reassigned: %(account)s") % {"account": data["account"]["name"]}
        lines = [
            gettext("From %(old)s to %(new)s") % {"old": _person(data["from_owner"]), "new": _person(data["to_owner"])},
            gettext("By: %(owner)s") % {"owner": _person(data["reassigned_by"])},
        ]
    else:
        title = gettext("SalesFlow test message")
        lines = [gettext("If you can read this, the robot is set up correctly.")]
    text = "\n".join([f"### {title}", *(f"- {line}" for line in lines)])
    if link:
        text += "\n\n[" + gettext("Open in SalesFlow") + f"]({link})"
    return title, text


def robot_body(endpoint: WebhookEndpoint, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON a robot of `endpoint`'s kind takes for this delivery, in the endpoint's language."""
    if "text" in payload and "title" in payload:
        title, text = payload["title"], payload["text"]
    else:
        with translation.override(endpoint.language):
            title, text = render_event(event, payload.get("data", {}))
    if endpoint.kind == WebhookEndpoint.Kind.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
