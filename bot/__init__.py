"""The edge: aiohttp app, WeChat channel, sandbox platform, outbox sender, CLI."""
