"""The intake conversation: from a person's first words to a submitted, routed ticket.

Steps, each asked only when needed:  describe -> kind -> (out_of_scope) -> school -> similar -> phone ->
anonymity -> confirm. The state and the collected data live in SQLite (storage.conversations), so a restart in
the middle changes nothing for the person.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

from handlers import texts
from handlers.messages import Inbound, Reply
from handlers.numbers import ascii_int

KINDS = {"1": "complaint", "2": "suggestion", "3": "inquiry", "4": "praise"}
KIND_WORDS = {
    "complaint": ("投诉", "举报", "反映", "不满", "太过分", "乱收", "违规", "要求整改", "曝光", "维权", "怎么能",
                  "凭什么", "不合理", "退钱", "退费"),
    "suggestion": ("建议", "希望", "能否", "能不能", "可否", "呼吁", "提议", "应该", "最好"),
    "inquiry": ("请问", "咨询", "想问", "问一下", "问下", "怎么办", "如何", "什么时候", "哪里", "吗", "？", "?",
                "多少", "是否", "有没有", "需要什么"),
    "praise": ("表扬", "感谢", "点赞", "谢谢", "辛苦了", "负责任", "好老师", "致敬", "锦旗"),
}
YES = {"1", "是", "好", "好的", "对", "确认", "提交", "可以", "同意", "嗯", "ok", "yes"}
NO_WORDS = {"不", "不用", "否", "不同意", "不要", "no"}
SKIP = {"0", "跳过", "不留", "不用了", "无", "没有", "不方便"}
MIN_DESCRIPTION = 8  # shorter than this, and we ask for a little more detail
SUPPLEMENT_CHARS = 10  # this many Chinese characters where a short answer was expected: more of the story
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalise(text: str) -> str:
    """Full-width digits and letters to ASCII, spaces trimmed: what a phone keyboard sends varies."""
    return unicodedata.normalize("NFKC", text).strip()


# Saying the kind outright decides it, whatever else the message contains ("…合理吗？我要投诉").
EXPLICIT = {"complaint": ("投诉", "举报"), "suggestion": ("建议",), "inquiry": ("咨询", "请问"),
            "praise": ("表扬", "感谢")}


def infer_kind(text: str) -> str | None:
    """The kind when the words say it clearly, else None (and we ask)."""
    named = [kind for kind, words in EXPLICIT.items() if any(w in text for w in words)]
    if len(named) == 1:
        return named[0]
    scores = {kind: sum(text.count(w) for w in words) for kind, words in KIND_WORDS.items()}
    best = max(scores.values())
    if best == 0:
        return None
    winners = [k for k, v in scores.items() if v == best]
    if len(winners) == 1:
        return winners[0]
    # 投诉 words usually carry the demand even when a question mark follows
    return "complaint" if "complaint" in winners else None


def _t(data: dict, name: str) -> str:
    """A reply text in the language the person writes in (data["lang"], set from their first words)."""
    return texts.pick(name, data.get("lang"))


def mask_phone(phone: str | None) -> str:
    if not phone:
        return texts.NO_PHONE
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone[:-4] + "****"


def choice(text: str, options: int) -> int | None:
    n = ascii_int(normalise(text), 2)  # not str.isdigit: ፩ and 𐩀 are "digits" int() refuses
    return n if n is not None and 1 <= n <= options else None


@dataclass
class Plan:
    """What routing and assignment decided for the collected text, ready to show and to store."""

    category: str
    unit_code: str | None
    unit_name: str
    school_code: str | None
    school_name: str | None
    routing: dict[str, Any]
    due_at: float
    due_text: str
    days: int


class Intake:
    """One step of the conversation at a time. `services` gives it routing, directory and storage calls,
    so this module holds only the conversation's rules."""

    def __init__(self, services: "IntakeServices"):
        self.s = services

    # -- entry ------------------------------------------------------------------------------------------
    def start(self, inbound: Inbound, scene_school: str | None,
              kind: str | None = None) -> tuple[str, dict, list[Reply]]:
        """`kind` when already known (issue 13: a question an instant answer did not settle is an inquiry)."""
        data: dict[str, Any] = {"openid": inbound.openid, "parts": [], "attachments": [], "kind": kind,
                                "school": scene_school,
                                "school_from": "scene" if scene_school else None}
        self._collect(inbound, data)
        if inbound.kind == "text" and normalise(inbound.text) and len(self._text(data)) < MIN_DESCRIPTION:
            return "describe", data, [Reply(texts.ASK_MORE)]
        if not data["parts"]:  # an image or voice without words: ask for the words
            return "describe", data, [Reply(texts.ASK_DESCRIPTION_AFTER_MEDIA)]
        return self._advance(data, [])

    # -- one message within the conversation --------------------------------------------------------------
    def step(self, state: str, data: dict, inbound: Inbound) -> tuple[str | None, dict, list[Reply]]:
        if inbound.kind in ("image", "voice", "video") and not (inbound.kind == "voice" and inbound.text):
            self._collect(inbound, data)
            return state, data, [Reply(texts.ATTACHED.format(what=texts.MEDIA_NAMES[inbound.kind])
                                       + "\n" + self._prompt(state, data))]
        text = normalise(inbound.text)
        if state != "describe" and self._is_more_description(state, text):
            # People often tell their story in several messages: a sentence where an answer was expected
            # is more of the story, not a wrong answer.
            self._collect(inbound, data)
            return self._advance(data, [Reply(texts.SUPPLEMENTED)])
        handler = getattr(self, f"_on_{state}")
        return handler(text, data, inbound)

    def _is_more_description(self, state: str, text: str) -> bool:
        if sum("\u4e00" <= ch <= "\u9fff" for ch in text) < SUPPLEMENT_CHARS:  # digits, codes, short answers
            return False
        if state == "school" and self.s.find_school(text):
            return False
        return True

    def _on_describe(self, text: str, data: dict, inbound: Inbound):
        self._collect(inbound, data)
        if len(self._text(data)) < MIN_DESCRIPTION:
            return "describe", data, [Reply(texts.ASK_MORE)]
        return self._advance(data, [])

    def _on_kind(self, text: str, data: dict, inbound: Inbound):
        n = choice(text, 4)
        kind = KINDS[str(n)] if n else texts.KIND_BY_NAME.get(text)
        if kind is None:
            return "kind", data, [Reply(_t(data, "ASK_KIND_AGAIN"))]
        data["kind"] = kind
        return self._advance(data, [])

    def _on_out_of_scope(self, text: str, data: dict, inbound: Inbound):
        n = choice(text, 2)
        if n == 1 or text in YES:
            data["insist"] = True
            return self._advance(data, [])
        if n == 2 or text in NO_WORDS or text in texts.CANCEL_WORDS:
            return None, data, [Reply(_t(data, "OUT_OF_SCOPE_DONE"))]
        return "out_of_scope", data, [Reply(_t(data, "CHOOSE_1_2"))]

    def _on_school(self, text: str, data: dict, inbound: Inbound):
        if text in SKIP:
            data["school"], data["school_from"] = None, "none"
            return self._advance(data, [])
        code = self.s.find_school(text)
        if code is None:
            return "school", data, [Reply(texts.SCHOOL_NOT_FOUND)]
        data["school"], data["school_from"] = code, "asked"
        return self._advance(data, [])

    def _on_similar(self, text: str, data: dict, inbound: Inbound):
        n = choice(text, 2)
        if n == 1:
            number = data["similar"]
            self.s.append_to(number, inbound.openid, self._text(data), data["attachments"])
            return None, data, [Reply(texts.APPENDED.format(number=number))]
        if n == 2:
            data["similar_checked"] = True
            return self._advance(data, [])
        return "similar", data, [Reply(texts.CHOOSE_1_2)]

    def _on_phone(self, text: str, data: dict, inbound: Inbound):
        if text in SKIP:
            data["phone"] = ""
            return self._advance(data, [])
        digits = text.replace(" ", "").replace("+86", "")
        if not PHONE.match(digits):
            return "phone", data, [Reply(_t(data, "PHONE_INVALID"))]
        data["phone"] = digits
        return self._advance(data, [])

    def _on_anonymity(self, text: str, data: dict, inbound: Inbound):
        n = choice(text, 2)
        if n is None:
            n = 1 if text in YES else 2 if text in NO_WORDS else None
        if n is None:
            return "anonymity", data, [Reply(texts.CHOOSE_1_2)]
        data["anonymous"] = n == 2
        return self._advance(data, [])

    def _on_confirm(self, text: str, data: dict, inbound: Inbound):
        n = choice(text, 3)
        if n == 1 or text in YES:
            plan = self._plan(data)
            ticket = self.s.submit(inbound.openid, data, plan)
            return None, data, [Reply(_t(data, "SUBMITTED").format(
                number=ticket["number"], unit=plan.unit_name, due=plan.due_text))]
        if n == 2:
            data["parts"], data["attachments"] = [], []
            data.pop("plan", None)
            return "describe", data, [Reply(_t(data, "ASK_REWRITE"))]
        if n == 3:
            return None, data, [Reply(_t(data, "CANCELLED"))]
        return "confirm", data, [Reply(_t(data, "CHOOSE_1_3"))]

    # -- moving on -----------------------------------------------------------------------------------------
    def _advance(self, data: dict, replies: list[Reply]) -> tuple[str | None, dict, list[Reply]]:
        """Ask the first thing still missing, or show the summary."""
        text = self._text(data)
        decision = self.s.route(text)
        if "lang" not in data:  # the language of the first words decides the replies' language
            data["lang"] = decision.get("lang", "zh")
            if data["lang"] == "en":
                replies = [Reply(texts.EN["WELCOME"]), *replies]
        if data.get("kind") is None:
            data["kind"] = infer_kind(text)
            if data["kind"] is None:
                return "kind", data, [*replies, Reply(_t(data, "ASK_KIND"))]
        data["category"] = decision["category"]
        data["routing"] = decision
        if decision.get("school") and data.get("school_from") != "asked":
            data["school"], data["school_from"] = decision["school"], "text"  # the text names the school
        if data["category"] == "out_of_scope" and not data.get("insist"):
            return "out_of_scope", data, [*replies, Reply(_t(data, "OUT_OF_SCOPE"))]
        if data.get("school") is None and data.get("school_from") != "none" and \
                data["category"] in self.s.needs_school:
            return "school", data, [*replies, Reply(_t(data, "ASK_SCHOOL"))]
        if not data.get("similar_checked"):
            data["similar_checked"] = True
            similar = self.s.similar(data)
            if similar:
                data["similar"] = similar["number"]
                return "similar", data, [*replies, Reply(texts.SIMILAR.format(
                    number=similar["number"], date=similar["date"], state=similar["state"]))]
        if "phone" not in data:
            return "phone", data, [*replies, Reply(_t(data, "ASK_PHONE"))]
        if "anonymous" not in data:
            if data.get("school"):
                return "anonymity", data, [*replies, Reply(_t(data, "ASK_ANONYMITY"))]
            data["anonymous"] = True
        plan = self._plan(data)
        return "confirm", data, [*replies, Reply(self._summary(data, plan))]

    def _plan(self, data: dict) -> Plan:
        return self.s.plan(data["category"], data.get("school"), data["kind"], data["routing"])

    def _summary(self, data: dict, plan: Plan) -> str:
        if data.get("lang") == "en":
            return texts.EN["SUMMARY"].format(
                kind=texts.KIND_NAMES_EN[data["kind"]], excerpt=texts.excerpt(self._text(data), 60),
                unit=plan.unit_name, phone=mask_phone(data.get("phone")) if data.get("phone") else "none",
                days=plan.days, due=plan.due_text)
        lines = [texts.SUMMARY_HEAD,
                 f"类型：{texts.KIND_NAMES[data['kind']]}",
                 f"内容：{texts.excerpt(self._text(data), 60)}"]
        if data["attachments"]:
            lines.append(f"附件：{len(data['attachments'])}个")
        if plan.school_name:
            lines.append(f"涉及学校：{plan.school_name}")
        lines.append(f"承办单位：{plan.unit_name}")
        lines.append(f"联系电话：{mask_phone(data.get('phone'))}")
        if plan.school_name:
            lines.append("身份信息：" + ("对学校保密" if data.get("anonymous") else "可告知学校"))
        lines.append(f"办结时限：{plan.days}个工作日，{plan.due_text}前")
        lines.append(texts.SUMMARY_CHOICES)
        return "\n".join(lines)

    def _prompt(self, state: str, data: dict) -> str:
        return {
            "describe": texts.ASK_MORE, "kind": texts.ASK_KIND, "out_of_scope": texts.CHOOSE_1_2,
            "school": texts.ASK_SCHOOL, "similar": texts.CHOOSE_1_2, "phone": texts.ASK_PHONE,
            "anonymity": texts.ASK_ANONYMITY, "confirm": texts.CHOOSE_1_3,
        }[state]

    # -- collected data --------------------------------------------------------------------------------------
    @staticmethod
    def _collect(inbound: Inbound, data: dict) -> None:
        if inbound.text and normalise(inbound.text):
            data["parts"].append(inbound.text.strip())
        if inbound.kind in ("image", "voice", "video"):
            data["attachments"].append({"kind": inbound.kind, "media_id": inbound.media_id,
                                        "url": inbound.media_url, "text": inbound.text or None})

    @staticmethod
    def _text(data: dict) -> str:
        return "\n".join(data["parts"])


class IntakeServices:
    """What the intake conversation needs from the rest of the system (routing, directory, tickets)."""

    needs_school: frozenset[str]
    notices: list  # pushes caused by a submission (the staff to tell), sent with the conversation's reply
    route: Callable[[str], dict]
    find_school: Callable[[str], str | None]
    similar: Callable[[dict], dict | None]
    plan: Callable[..., Plan]
    submit: Callable[[str, dict, Plan], dict]
    append_to: Callable[[str, str, str, list], None]
