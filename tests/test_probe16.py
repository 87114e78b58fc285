import asyncio, time
from tests.dialog import file_ticket, talk, heard, drain, settle, send, DISTRICT, DISTRICT_HEAD, SCHOOL, SCHOOL_HEAD, FEES, DUTY, LEADER
from storage import tickets, staff, outbox

async def pushes(d, who):
    await settle(d, who)
    async with d.session.get("/sandbox/messages", params={"openid": who}) as resp:
        return [m.get("content") or str(m.get("data")) for m in (await resp.json())["messages"]]

async def test_unfollow(dialog, tmp_path):
    d = dialog
    n = await file_ticket(d, "o_pa", "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    t = await d.db(tickets.get, n); print("unit", t["unit_code"])
    await talk(d, FEES, f"签收 {n}")
    print(await send(d, FEES, type="unsubscribe"))
    print(await talk(d, "o_pa", f"回复 {n} 孩子叫王小明，收据至今没有给"))
    await asyncio.sleep(1)
    rows = await d.db(lambda db: db.execute("select openid,status,last_error,payload from outbox where payload like '%王小明%'").fetchall())
    print(rows)
    for who in (FEES, DUTY, LEADER):
        print(who, [x[:80] for x in await pushes(d, who)][-2:])
