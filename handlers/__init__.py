"""The core: conversation flows, commands, routing and ticket rules. Pure Python: no aiohttp, no wechatpy, no
SQL. `Dispatcher.handle(inbound) -> list[Reply]` is the one entry point."""
