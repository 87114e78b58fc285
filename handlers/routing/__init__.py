"""Message routing: a citizen's message -> one of the 13 stable category codes, with an explanation.

    from handlers.routing import Router, Decision, CATEGORIES
    router = Router.from_toml(schools=[("S001", "实验小学", ["市实小"])])
    decision = router.route("孩子作业写到十一点")
"""
from .router import CATEGORIES, DEFAULT_RULES, Decision, Router

__all__ = ["CATEGORIES", "DEFAULT_RULES", "Decision", "Router"]
