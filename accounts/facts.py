"""Facts about an account or a contact that are not one row's own fields: customer type and contact-style advice."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Contact

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


@dataclass(frozen=True)
class StyleAdvice:
    """How to handle a contact of one communication style: a one-line tip and the full advice."""

    tip: str
    advice: str


def communication_advice(style: str) -> StyleAdvice | None:
    """The sales decks' advice for a communication style (主导型 / 分析型 / 社交型); None for no style."""
    # The source strings are English; the Chinese translation is the decks' own wording, given in the comments.
    if style == Contact.CommunicationStyle.DOMINANT:
        return StyleAdvice(
            # Translators: 避其锋芒 引狼入室 暴其弱点 经礼服人 一举歼灭
            tip=_("Avoid their edge, draw them in, expose the weak point, win with courtesy, close in one go."),
            # Translators: 喜欢自己做决定。避其锋芒，引狼入室，暴其弱点，经礼服人，一举歼灭。
            # 不够细节：预告设定的专业术语，真诚地告诉顾客将要发生的事。
            advice=_(
                "Likes to make their own decisions. Do not meet them head-on: draw them in, expose the weak point, "
                "win them over with courtesy, then close in one go. Not one for details: announce the technical "
                "terms you will use, and tell them honestly what is going to happen."
            ),
        )
    if style == Contact.CommunicationStyle.ANALYTICAL:
        return StyleAdvice(
            # Translators: 注重细节，以事实为依据；顾客脱轨时，引导顾客回到轨道上。
            tip=_("Bring facts and details; when they drift off track, guide them back."),
            # Translators: 内向，沉稳，自信而冷静，说话严谨，喜欢独立思考与分析，注重细节，处事以事实为依据。
            # 不够热情：顾客脱轨时，引导顾客回到轨道上。
            advice=_(
                "Reserved, calm and self-assured; speaks precisely, likes to think and analyse on their own, pays "
                "attention to details and goes by the facts. Not very warm: when the customer drifts off track, "
                "guide them back onto it."
            ),
        )
    if style == Contact.CommunicationStyle.SOCIAL:
        return StyleAdvice(
            # Translators: 破冰，调节气氛。
            tip=_("Break the ice and lighten the atmosphere."),
            # Translators: 外向，喜欢自己做决定。不够重视：破冰，调节气氛。
            advice=_(
                "Outgoing and likes to make their own decisions. Does not take the meeting seriously enough: break "
                "the ice and lighten the atmosphere."
            ),
        )
    return None
