from tests.dialog import *
from tests.dialog import dialog  # noqa
from storage import outbox
P="o_probe_parent"
async def test_probe(dialog):
    d=dialog
    n = await file_ticket(d, P, "学校要求每个学生交300元资料费，还不给收据，我要投诉", scene="school:jn-syxx")
    d.clock.advance(3 * 86400)
    print(await talk(d, LEADER, f"转派 {n} 江南区教育局 属区管学校收费"))
    import asyncio; await asyncio.sleep(0.5)
    print(await d.db(lambda db: list(db.query("select id, openid, status, next_attempt_at, last_error, attempts from outbox"))))
    print(d.clock.now())
