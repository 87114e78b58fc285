"""How the WeChat channel renders a channel-neutral notice (handlers/desk.py `Desk.notice`) as a template message,
for a person outside the 48-hour customer-service window. Field names follow the common "业务进度通知" template
(first, keyword1-3, remark); the template ids come from config [notify]."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers import texts


@dataclass(frozen=True)
class Templates:
    """Template message ids by audience (empty: no template; the text waits for the person's next message)."""

    staff: str = ""
    citizen: str = ""


def template_for(notice: dict[str, Any] | None, templates: Templates, url: str | None = None) -> dict | None:
    if not notice:
        return None
    template_id = templates.staff if notice.get("audience") == "staff" else templates.citizen
    if not template_id or not notice.get("ticket"):
        return None
    return {"template_id": template_id, "url": url, "data": {
        "first": {"value": notice.get("title") or ""}, "keyword1": {"value": notice["ticket"]},
        "keyword2": {"value": notice.get("state") or ""}, "keyword3": {"value": notice.get("due") or ""},
        "remark": {"value": texts.pick("TEMPLATE_REMARK", notice.get("lang"))}}}
