"""The Official Account's custom menu (自定义菜单), set with `tingjian menu push` through menu/create.

WeChat allows at most three top-level buttons (each with up to five sub-buttons), so the four entrances sit as
two buttons and one group: 我要留言 · 查询进度 · 公开评议 (办事公开, 参与评议, 使用帮助). CLICK keys are handled in
the core (handlers/campaign.py and Dispatcher._event); the menu only names them.
"""
from __future__ import annotations

from typing import Any

from handlers.campaign import MENU_HELP, MENU_PUBLIC, MENU_QUERY, MENU_SURVEY, MENU_WRITE


def default_menu() -> dict[str, Any]:
    return {"button": [
        {"type": "click", "name": "我要留言", "key": MENU_WRITE},
        {"type": "click", "name": "查询进度", "key": MENU_QUERY},
        {"name": "公开评议", "sub_button": [
            {"type": "click", "name": "办事公开", "key": MENU_PUBLIC},
            {"type": "click", "name": "参与评议", "key": MENU_SURVEY},
            {"type": "click", "name": "使用帮助", "key": MENU_HELP},
        ]},
    ]}


def describe(menu: dict[str, Any]) -> str:
    """The menu as the terminal shows it: one line per button, sub-buttons indented."""
    lines = []
    for b in menu.get("button", []):
        subs = b.get("sub_button") or []
        lines.append(f"{b['name']}" + ("" if subs else f"  [{b.get('type')}: {b.get('key') or b.get('url')}]"))
        for s in subs:
            lines.append(f"  └ {s['name']}  [{s.get('type')}: {s.get('key') or s.get('url')}]")
    return "\n".join(lines)
