"""The service without its handling (a bench tool, not part of the service): with this folder on the server's
PYTHONPATH (`bench/webhook.py --segments 6 --old bench/floor`), Python imports it at start, and every message's
handling (Dispatcher.handle_tx) reads its sender's row and answers one fixed text of a usual reply's length.
Everything else is the service's: the HTTP path, signature, AES, XML, the receiver, the hand-over to the writer
thread and back, the inbound row, the signed request's record, the sender's touch, the commit, the encrypted
passive reply. What the server costs beyond this floor is the handling (the intake, the conversation row and its
JSON, routing); what the floor costs beyond the echo is the rest of the service. Not with --probe (its own
sitecustomize comes first on the path and this one is not read): the server's log says when this one is."""
from __future__ import annotations

import os

if os.environ.get("BENCH_FLOOR", "1") == "1":  # (BENCH_FLOOR=0: the folder on the path, the handling kept)
    import sys
    from handlers import dispatcher
    from handlers.messages import Reply
    from storage import users

    FIXED = "已记下，和刚才那段话一起作为同一条留言。还有要补充的吗？说完了请回复“好了”，我们就为您提交。"

    def handle_tx(self, db, inbound, reads=None):
        users.get(db, inbound.openid)
        return [Reply(FIXED)]

    dispatcher.Dispatcher.handle_tx = handle_tx
    print("bench/floor: every message's handling is a fixed reply (Dispatcher.handle_tx replaced)", file=sys.stderr)
