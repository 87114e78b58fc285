"""Configuration: TOML -> frozen dataclasses, validated once at start.

Every key may be overridden by an environment variable TINGJIAN_<SECTION>_<KEY> (upper case), which is how
secrets reach production. A typo in a key or a bad value stops the program with a message naming both.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from typing import Any, Mapping, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.review import Weights
from storage.tomlfile import read_toml

ENV_PREFIX = "TINGJIAN_"


class ConfigError(ValueError):
    """A configuration problem, worded for the person who edits the file."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # Public base URL used in links sent to people (digest pages, simulator). Empty: derived from host/port.
    public_url: str = ""
    max_body_bytes: int = 65536
    log_level: str = "INFO"
    # Key that signs links to internal pages (the weekly digest). Required by `serve`; never derived from others.
    link_secret: str = ""
    # Exempt what start-up built (jieba's dictionary, the router, the rules) from the garbage collector's full
    # passes, which otherwise stop the process for 60-80 ms of CPU every few seconds under load (bot/runtime.py).
    gc_freeze: bool = True
    # After the freeze, the collector's thresholds (CPython's own: 700 allocations between two young collections,
    # a middle one after 10 young ones, a full one after 10 middle ones). 0: CPython's. 100 middle ones: the full
    # pass (20-60 ms of CPU, every message in flight waiting) came every ~10 s under load, with it not once in
    # minutes (bench/README.md, "tail12"). 3000 allocations: at 700 the ~50 requests in flight (3,000-4,000
    # objects) were walked by a young collection every ~40 messages, ~20 us of CPU a message; at 3000 every
    # ~500. A middle collection walks what the young ones kept since the last (the drafts, the people's rows), so
    # it comes after 2 young ones instead of 10, to stay as short as before ("hot13").
    gc_threshold0: int = 3000
    gc_threshold1: int = 2
    gc_threshold2: int = 100
    # While the writer has messages in hand, every request but the webhook's waits for its next commit, and at
    # most this many go on after each batch (bot/priority.py). 0: off.
    pages_per_batch: int = 4


@dataclass(frozen=True)
class WechatConfig:
    token: str = ""
    aes_key: str = ""
    appid: str = ""
    appsecret: str = ""
    api_base: str = "https://api.weixin.qq.com"
    reply_timeout_seconds: float = 4.5
    check_timestamp: bool = True
    timestamp_tolerance_seconds: int = 300
    # How long an inbound message id is remembered for deduplication.
    dedupe_days: int = 3
    # With an aes_key, accept unencrypted (plaintext) messages too: compatible mode (明文/兼容模式) only.
    allow_plaintext: bool = False
    # 网页授权 (snsapi_base): staff who open the workbench inside WeChat are signed in by WeChat itself. The base
    # URL of WeChat's authorisation page (https://open.weixin.qq.com); empty: off (sign-in by 登录 links only).
    oauth: str = ""


@dataclass(frozen=True)
class StorageConfig:
    path: str = "data/tingjian.db"
    # Sent pushes older than this many days are deleted (in small batches, hourly). Tickets, their events and
    # ratings are never deleted.
    retention_days: int = 90
    # How long a write waits for another process's lock (a backup, a CLI command) before it gives up. Inbound
    # messages never wait on it: past reply_timeout they are spooled to disk beside the database.
    lock_wait_seconds: float = 30.0


@dataclass(frozen=True)
class OutboxConfig:
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    # Alert (log and /healthz, which then answers 503) when the oldest undelivered message is older than this.
    stuck_minutes: int = 30
    # Alert while any message failed for good (unfollowed, bad openid, template error) within these hours.
    failed_alert_hours: int = 24


@dataclass(frozen=True)
class MediaConfig:
    # Folder for the copies of images and voice messages people send (WeChat keeps them only 3 days). Empty: a
    # folder beside the database, <storage.path>.media/. Created 0700, files 0600, named by their SHA-256.
    dir: str = ""
    # Larger files are not kept (WeChat's own limits: images 10 MB, voice 2 MB).
    max_bytes: int = 10 * 1024 * 1024
    # Videos (video and shortvideo messages) larger than this are not kept; the sender is told so at once.
    max_video_bytes: int = 30 * 1024 * 1024
    # How often the fetcher looks for media to copy when nothing wakes it, and the backoff after a failure
    # (base * 2^(attempt-1), at most max); after WeChat's 3 days a missing file is marked expired.
    poll_seconds: float = 5.0
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 1800.0

    def folder(self, db_path: str) -> Path:
        return Path(self.dir) if self.dir else Path(str(db_path) + ".media")


@dataclass(frozen=True)
class BotConfig:
    name: str = "听见"
    organisation: str = "市教育局"
    timezone: str = "Asia/Shanghai"
    # The published service commitment (公开承诺) shown to a person who follows the account.
    commitment: str = "咨询3个工作日内答复，投诉和建议7个工作日内办结，办理结果请您评价。"
    # The bureau's own hotline, given to a citizen with an urgent matter.
    hotline: str = ""


@dataclass(frozen=True)
class DirectoryConfig:
    # CSV of units and schools loaded at start (columns: code,name,kind,district,parent). Empty: none.
    csv: str = ""
    # TOML of service items (服务事项) and contact hours per unit or kind (storage/services.py). Empty: none.
    services: str = ""


@dataclass(frozen=True)
class RoutingConfig:
    # Rules TOML; empty: the rules shipped in handlers/routing/default_rules.toml.
    rules: str = ""
    # Categories a school handles itself when the message is about a known school; others go to bureau offices.
    school_categories: tuple[str, ...] = ("burden", "safety")
    # Categories that the district bureau running a named school handles (师德 always does).
    district_categories: tuple[str, ...] = ("ethics", "admission", "teachers")
    # Where a ticket goes when no office is set for its category (and where out-of-scope insistences go).
    duty_office: str = "jyj-bgs"
    # Unit code of the office that oversees the bureau's own work (督查室, 纪检监察): it receives complaints about
    # the bureau's offices and its staff, the duty office's included, which never go to the office accused.
    # Empty: they go to the leaders (a warning at start-up and on the admin page until it is set).
    oversight_office: str = ""
    # An open ticket of the same person, school and category within this many days is offered for adding to.
    similar_days: int = 7
    # An unfinished conversation expires after this many idle minutes.
    conversation_minutes: int = 30


@dataclass(frozen=True)
class DeadlinesConfig:
    # Working days to accept (签收) a dispatched ticket.
    accept_days: int = 1
    # Working days to resolve, by kind; the clock starts at dispatch.
    inquiry_days: int = 3
    complaint_days: int = 7
    suggestion_days: int = 7
    praise_days: int = 7
    # Safety complaints (校园安全) are urgent.
    safety_complaint_days: int = 1
    # Urgent matters (the router's `urgent`): copied to the supervisors at once.
    urgent_days: int = 1
    # Working days for the redo after a citizen is dissatisfied (不满意).
    redo_days: int = 3
    # A 转派 gives the new unit the full time limit again, counted from the transfer.
    restart_on_transfer: bool = True
    # Extra non-working days (school holidays), as "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD".
    school_holidays: tuple[str, ...] = ()
    # Official holidays and 调休 working days as the State Council announced them, for a year chinese-calendar
    # does not know yet (same format); they override the package. A year listed in `holidays` counts as known.
    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()
    # How often the deadline watch runs, in minutes.
    sweep_minutes: int = 5


@dataclass(frozen=True)
class NotifyConfig:
    # Template message ids (公众号后台 → 模板消息) used when a person is outside WeChat's 48-hour window.
    # Empty: the message waits until the person next writes to the account.
    staff_template_id: str = ""
    citizen_template_id: str = ""
    # How long a staff invite code (tingjian staff invite) stays valid, in hours.
    invite_hours: int = 168
    # Wrong invite codes (绑定 …) accepted per hour from one person, and from everyone together.
    invite_attempts_per_person: int = 5
    invite_attempts_total: int = 50


@dataclass(frozen=True)
class DigestConfig:
    # When last week's digest goes out, in bot.timezone: a weekday (mon … sun) and a time.
    send_at: str = "mon 09:00"
    # Build the weekly digests in the service's job process (bot/digest_job.py: low priority, kept while used),
    # so the webhook shares neither its GIL nor its memory with them. false: on a reader thread of the service's
    # own process (tests, very small installations).
    separate_process: bool = True
    # How many days a digest link opens its page.
    link_days: int = 30


@dataclass(frozen=True)
class CampaignConfig:
    # 群众评议: a survey TOML file, or a folder of them (one survey per file). Empty: no surveys.
    surveys: str = ""
    # Below this many responses a unit's result reads 样本不足 instead of a mean.
    min_responses: int = 30
    # More responses than this through one unit's survey code within an hour are flagged as a burst.
    burst_per_hour: int = 30
    # A response from someone who first followed the account this few minutes before is counted but marked.
    new_follower_minutes: int = 10
    # A burst paced under burst_per_hour: more answers than this through one unit in a day (China time) from accounts
    # that followed less than a day before, nine in ten of them near-identical sheets, are left out as a burst;
    # more of them at all, the leaders are told (storage.surveys.new_follower_day).
    new_follower_per_day: int = 20
    # One account's answers count for at most this many units in a survey (storage.surveys.may_rate): the door
    # from now on; what was counted stays counted.
    units_per_person: int = 3
    # 常见问题: TOML of common questions answered at once. Empty: every inquiry becomes a ticket.
    faq: str = ""
    # How sure a match must be (0–1) before an answer is served.
    faq_min_score: float = 0.55


@dataclass(frozen=True)
class ReviewConfig:
    # Weights of the performance review's components (handlers/review.py); the score is the weighted mean of
    # the components a unit has, so they need not sum to 1. Defaults: handlers.review.Weights, declared once.
    weight_response: float = Weights.response
    weight_resolution: float = Weights.resolution
    weight_satisfaction: float = Weights.satisfaction
    weight_first_satisfaction: float = Weights.first_satisfaction
    weight_overdue: float = Weights.overdue
    weight_bounced: float = Weights.bounced
    weight_survey: float = Weights.survey
    weight_praise: float = Weights.praise
    weight_staffed: float = Weights.staffed  # only for a unit that had tickets reach it with nobody bound
    # A rate (响应率, 解决率, 满意率, 首次满意率) counts in a unit's score only when it rests on at least this many
    # tickets or ratings in the period: one 满意 is not 100 points (shown with its count, marked 样本不足).
    min_cases: int = 5

    def weights(self) -> Weights:
        return Weights(**{f.name: getattr(self, f"weight_{f.name}") for f in dataclasses.fields(Weights)})


@dataclass(frozen=True)
class PublicConfig:
    # How long a public page (/u/…) is served from memory before it is built again, in seconds.
    cache_seconds: int = 60
    # A unit needs at least this many ratings in the period to be listed among the best satisfaction.
    min_rated: int = 5


@dataclass(frozen=True)
class SandboxConfig:
    # Serve the local stand-in for api.weixin.qq.com and the simulator in this process (demo mode only).
    enabled: bool = False


@dataclass(frozen=True)
class BackupConfig:
    # Folder for scheduled online backups. Empty: no scheduled backups (`tingjian backup` still works).
    dir: str = ""
    # Hours between scheduled backups, and how many backup files to keep (older ones are deleted).
    every_hours: float = 24.0
    keep: int = 7


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    wechat: WechatConfig = field(default_factory=WechatConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    directory: DirectoryConfig = field(default_factory=DirectoryConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    deadlines: DeadlinesConfig = field(default_factory=DeadlinesConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    campaign: CampaignConfig = field(default_factory=CampaignConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    public: PublicConfig = field(default_factory=PublicConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    source: str = "<defaults>"

    def validate(self) -> "Config":
        def bad(key: str, why: str) -> ConfigError:
            return ConfigError(f"{self.source}: {key}: {why}")

        try:
            ZoneInfo(self.bot.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise bad("bot.timezone", f"unknown time zone {self.bot.timezone!r} (e.g. Asia/Shanghai)") from None
        if self.server.public_url and not self.server.public_url.startswith(("http://", "https://")):
            raise bad("server.public_url", "must start with https:// (or http://): the links sent in messages use it")
        for key in ("name", "organisation", "commitment"):  # in every citizen's welcome: 欢迎关注{organisation}“{name}”
            if not getattr(self.bot, key).strip():
                raise bad(f"bot.{key}", "is empty: the welcome every citizen reads would say 欢迎关注“” or 我们的承诺："
                                        "with nothing after it")
        if not self.routing.duty_office.strip():
            raise bad("routing.duty_office", "is empty: name the unit (directory code) that takes unclaimed tickets")
        if not self.server.host.strip():  # aiohttp would listen everywhere, and links read http://:8080/…
            raise bad("server.host", "is empty: name the address to listen on (127.0.0.1 behind a reverse proxy, "
                                     "0.0.0.0 for every interface)")
        if not 1 <= self.server.port <= 65535:
            raise bad("server.port", f"must be between 1 and 65535, got {self.server.port}")
        if self.server.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise bad("server.log_level", "must be DEBUG, INFO, WARNING or ERROR")
        if self.server.max_body_bytes < 1024:
            raise bad("server.max_body_bytes", "must be at least 1024")
        if not 0 <= self.server.pages_per_batch <= 1000:
            raise bad("server.pages_per_batch", "must be between 0 (off) and 1000")
        if not 0 <= self.server.gc_threshold2 <= 100_000:
            raise bad("server.gc_threshold2", "must be between 0 (Python's own) and 100000")
        if not 0 <= self.server.gc_threshold0 <= 1_000_000:
            raise bad("server.gc_threshold0", "must be between 0 (Python's own) and 1000000")
        if not 0 <= self.server.gc_threshold1 <= 1000:
            raise bad("server.gc_threshold1", "must be between 0 (Python's own) and 1000")
        if self.wechat.aes_key and not re.fullmatch(r"[A-Za-z0-9]{43}", self.wechat.aes_key):
            raise bad("wechat.aes_key", "an EncodingAESKey is exactly 43 letters and digits")
        if self.wechat.aes_key and not self.wechat.appid:
            raise bad("wechat.appid", "is required when wechat.aes_key is set (safe mode checks it)")
        if self.wechat.token and not re.fullmatch(r"[A-Za-z0-9]{3,32}", self.wechat.token):
            raise bad("wechat.token", "WeChat accepts 3 to 32 letters and digits")
        for key in ("appid", "appsecret"):  # sent as they are: a space or a file's last line break fails every push
            value = getattr(self.wechat, key)
            if value != value.strip() or re.search(r"\s", value):
                raise bad(f"wechat.{key}", "has a space or a line break in it (copied with the value?): WeChat "
                                           "would refuse it (40125/40013) and no message could be pushed")
        if not self.wechat.api_base.startswith(("http://", "https://")):
            raise bad("wechat.api_base", "must start with http:// or https://")
        if self.wechat.oauth and not self.wechat.oauth.startswith(("http://", "https://")):
            raise bad("wechat.oauth", "must start with http:// or https:// (or be empty: off)")
        if self.wechat.oauth and not (self.wechat.appid and self.wechat.appsecret):
            raise bad("wechat.oauth", "needs wechat.appid and wechat.appsecret")
        if not 0 <= self.wechat.reply_timeout_seconds <= 4.8:
            raise bad("wechat.reply_timeout_seconds", "must be between 0 and 4.8 (WeChat gives up after 5 s)")
        if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", self.digest.send_at):
            raise bad("digest.send_at", "must look like \"mon 09:00\"")
        if not 1 <= self.notify.invite_hours <= 24 * 30:
            raise bad("notify.invite_hours", "must be between 1 and 720")
        if self.notify.invite_attempts_per_person < 1 or self.notify.invite_attempts_total < 1:
            raise bad("notify.invite_attempts_per_person", "and invite_attempts_total must be at least 1")
        if not 1 <= self.digest.link_days <= 366:
            raise bad("digest.link_days", "must be between 1 and 366")
        if self.server.link_secret and len(self.server.link_secret) < 16:
            raise bad("server.link_secret", "must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        if self.backup.every_hours <= 0 or self.backup.keep < 1:
            raise bad("backup.every_hours", "must be positive, and backup.keep at least 1")
        path = self.storage.path.strip()
        if not path or path == ":memory:" or path.startswith("file:"):
            # SQLite takes "" and :memory: as a temporary database: every message answered, then lost at a restart
            raise bad("storage.path", "must name the database file (e.g. data/tingjian.db): an empty path or "
                                      ":memory: keeps every message in a temporary database, lost when the service "
                                      "stops")
        if Path(path).is_dir():
            raise bad("storage.path", f"{path} is a folder: name the database file in it (e.g. {path.rstrip('/')}"
                                      "/tingjian.db)")
        if not 0.1 <= self.storage.lock_wait_seconds <= 3600:
            raise bad("storage.lock_wait_seconds", "must be between 0.1 and 3600")
        if not 0 < self.outbox.backoff_base_seconds <= self.outbox.backoff_max_seconds:
            raise bad("outbox.backoff_max_seconds", "must be at least backoff_base_seconds (both positive)")
        if self.outbox.stuck_minutes < 1 or self.outbox.failed_alert_hours < 1:
            raise bad("outbox.stuck_minutes", "stuck_minutes and failed_alert_hours must be at least 1")
        if self.outbox.poll_seconds <= 0:
            raise bad("outbox.poll_seconds", "must be positive")
        if self.media.max_bytes < 1024:
            raise bad("media.max_bytes", "must be at least 1024")
        if self.media.max_video_bytes < 1024:
            raise bad("media.max_video_bytes", "must be at least 1024")
        if self.media.poll_seconds <= 0:
            raise bad("media.poll_seconds", "must be positive")
        if not 0 < self.media.backoff_base_seconds <= self.media.backoff_max_seconds:
            raise bad("media.backoff_max_seconds", "must be at least backoff_base_seconds (both positive)")
        if self.routing.rules and not Path(self.routing.rules).is_file():
            raise bad("routing.rules", f"file not found: {self.routing.rules}")
        from handlers.routing import CATEGORIES
        for key in ("school_categories", "district_categories"):
            for code in getattr(self.routing, key):
                if code not in CATEGORIES:
                    raise bad(f"routing.{key}", f"unknown category {code!r}; known: {', '.join(CATEGORIES)}")
        if self.routing.conversation_minutes < 1 or self.routing.similar_days < 0:
            raise bad("routing.conversation_minutes", "must be at least 1 (and similar_days not negative)")
        if self.storage.retention_days < 1:
            raise bad("storage.retention_days", "must be at least 1")
        if not 1 <= self.deadlines.sweep_minutes <= 60:
            raise bad("deadlines.sweep_minutes", "must be between 1 and 60")
        for key in ("accept_days", "inquiry_days", "complaint_days", "suggestion_days", "praise_days",
                    "safety_complaint_days", "urgent_days", "redo_days"):
            if not 1 <= getattr(self.deadlines, key) <= 60:
                raise bad(f"deadlines.{key}", "must be between 1 and 60 working days")
        for key in ("school_holidays", "holidays", "workdays"):
            try:
                self.days_of(key)
            except ValueError as exc:
                raise bad(f"deadlines.{key}", str(exc)) from None
        both = self.days_of("workdays") & (self.days_of("holidays") | self.days_of("school_holidays"))
        if both:
            raise bad("deadlines.workdays", f"{min(both)} is also listed as a holiday")
        c = self.campaign
        if c.surveys and not Path(c.surveys).exists():
            raise bad("campaign.surveys", f"no such file or folder: {c.surveys}")
        if c.faq and not Path(c.faq).is_file():
            raise bad("campaign.faq", f"file not found: {c.faq}")
        if c.min_responses < 1 or c.burst_per_hour < 1 or c.new_follower_minutes < 0 or c.new_follower_per_day < 1:
            raise bad("campaign.min_responses", "min_responses, burst_per_hour and new_follower_per_day must be at "
                                                "least 1, new_follower_minutes not negative")
        if c.units_per_person < 1:
            raise bad("campaign.units_per_person", "must be at least 1")
        if not 0.2 < c.faq_min_score <= 1:
            raise bad("campaign.faq_min_score", "must be above 0.2 (keywords alone add up to 0.2) and at most 1")
        for f in dataclasses.fields(ReviewConfig):
            if getattr(self.review, f.name) < 0:
                raise bad(f"review.{f.name}", "must not be negative")
        if self.review.min_cases < 1:
            raise bad("review.min_cases", "must be at least 1")
        if not any(getattr(self.review, f"weight_{f.name}") for f in dataclasses.fields(Weights)):
            raise bad("review.weight_response", "at least one weight must be above 0")
        if not 0 <= self.public.cache_seconds <= 3600:
            raise bad("public.cache_seconds", "must be between 0 and 3600")
        if self.public.min_rated < 1:
            raise bad("public.min_rated", "must be at least 1")
        if self.directory.services and not Path(self.directory.services).is_file():
            raise bad("directory.services", f"file not found: {self.directory.services}")
        if self.directory.csv and not Path(self.directory.csv).is_file():
            raise bad("directory.csv", f"file not found: {self.directory.csv}")
        return self

    def school_holidays(self) -> frozenset:
        return self.days_of("school_holidays")

    def calendar(self):
        """The working-day calendar of these settings (handlers.workdays.WorkCalendar): one place builds it."""
        from handlers.workdays import WorkCalendar
        return WorkCalendar(self.bot.timezone, self.days_of("school_holidays"), self.days_of("workdays"),
                            self.days_of("holidays"))

    def days_of(self, key: str) -> frozenset:
        """The dates of a [deadlines] list of "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD"."""
        import datetime as dt
        days = set()
        for item in getattr(self.deadlines, key):
            first, _, last = item.partition("..")
            try:
                start = dt.date.fromisoformat(first.strip())
                end = dt.date.fromisoformat(last.strip()) if last else start
            except ValueError:
                raise ValueError(f"{item!r} is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
            if end < start or (end - start).days > 366:
                raise ValueError(f"{item!r}: the range is reversed or longer than a year")
            days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        return frozenset(days)

    def check_serving(self) -> "Config":
        """What `serve` needs beyond a valid file: real secrets, and the sandbox only on a private address.
        Raises ConfigError naming the key."""
        def bad(key: str, why: str) -> ConfigError:
            return ConfigError(f"{self.source}: {key}: {why}")

        var = lambda key: f"{ENV_PREFIX}{key.replace('.', '_')}".upper()  # noqa: E731
        for key in SECRET_KEYS:
            where = published().get(getattr(getattr(self, key.split(".")[0]), key.split(".")[1]).strip())
            if where:
                raise bad(key, f"is a value published in {where}: anyone can read it there. Set it (or {var(key)}) "
                               "to your own: 公众号后台's values for the WeChat keys, `openssl rand -hex 32` for "
                               "link_secret")
        for key in SECRET_KEYS:  # one rule for every secret: a word meaning "fill in later" is none
            value = getattr(getattr(self, key.split(".")[0]), key.split(".")[1])
            if is_placeholder(value):
                raise bad(key, f"is a placeholder ({value.strip()!r}), not a secret: set it (or {var(key)}) to "
                               f"{SECRET_SOURCES[key]}")
        if not self.wechat.token.strip():
            raise bad("wechat.token", f"is empty: anyone could sign requests. Set it (or {var('wechat.token')}) to "
                                      "the Token entered in 公众号后台 → 服务器配置")
        if weak(self.wechat.token, 8, 6):
            raise bad("wechat.token", "is too easy to guess (anyone who guesses it can sign requests as anyone): "
                                      "use at least 8 letters and digits, not one repeated, e.g. 公众号后台's 随机生成")
        if not self.server.link_secret.strip():
            raise bad("server.link_secret", f"is empty: it signs links to the digest pages. Set it (or "
                                            f"{var('server.link_secret')}) to a random value, e.g. "
                                            "`openssl rand -hex 32`")
        if weak(self.server.link_secret, 16, 8) or self.server.link_secret.strip() == self.wechat.token.strip():
            raise bad("server.link_secret", "is too easy to guess (a signed link could be forged): set a random "
                                            "value of its own, e.g. `openssl rand -hex 32`")
        if self.wechat.aes_key and weak(self.wechat.aes_key, 43, 16):
            raise bad("wechat.aes_key", "is the documentation's sample or too regular: use the EncodingAESKey "
                                        "公众号后台 generates (随机生成)")
        if not self.wechat.check_timestamp and (not self.wechat.aes_key or self.wechat.allow_plaintext):
            # Plaintext mode signs the URL, not the body; without the freshness check a signed URL is remembered
            # only dedupe_days (scheduler.prune_requests), and one read later from a proxy's access log could
            # carry any message from any openid (a leader's 同意延期 included). Compatible mode (allow_plaintext)
            # takes such plaintext bodies too.
            mode = "compatible mode (wechat.allow_plaintext)" if self.wechat.aes_key else \
                "plaintext mode (no wechat.aes_key)"
            raise bad("wechat.check_timestamp", f"is off in {mode}: an old signed URL could carry any message. "
                                                "Keep it on (fix the clock with NTP, or raise "
                                                "timestamp_tolerance_seconds), or use safe mode only (aes_key, "
                                                "allow_plaintext = false)")
        if self.sandbox.enabled and not is_loopback(self.server.host):
            raise bad("sandbox.enabled", f"the sandbox lets anyone post as anyone: it is refused on "
                                         f"{self.server.host!r}; bind server.host to 127.0.0.1 or turn it off")
        # Bound to 127.0.0.1 behind a reverse proxy (the deployment this README describes), the sandbox is public
        # all the same: refused wherever the service is reached by another name or speaks to the real WeChat API.
        exposed = [(key, url) for key, url in (("server.public_url", self.server.public_url),
                                              ("wechat.api_base", self.wechat.api_base))
                   if url and not is_loopback(urlparse(url).hostname or "")]
        if self.sandbox.enabled and exposed:
            key, url = exposed[0]
            raise bad("sandbox.enabled", f"the sandbox lets anyone post as anyone: it is refused with {key} = "
                                         f"{url!r} (a public service); turn it off")
        api_public = not is_loopback(urlparse(self.wechat.api_base).hostname or "")
        for key in ("appid", "appsecret"):
            if api_public and not getattr(self.wechat, key).strip():
                # every push needs an access_token: staff would never hear of a new or urgent ticket, and an
                # answer later than the passive reply would never reach the citizen (acknowledged, then stuck)
                raise bad(f"wechat.{key}", f"is empty: without it no message can be pushed (new and urgent "
                                           f"tickets to staff, answers after {self.wechat.reply_timeout_seconds} s). "
                                           f"Set it (or {var('wechat.' + key)}) from 公众号后台 → 设置与开发 → 基本配置")
        return self

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = "127.0.0.1" if self.server.host in ("0.0.0.0", "::") else self.server.host
        return f"http://{host}:{self.server.port}"


# Values that are not secrets: the example file's, and what people type when they mean "fill in later".
PLACEHOLDERS = ("replace3with3your3token", "replace-with-a-random-secret")
_PLACEHOLDER_WORDS = re.compile(r"replace|change.?me|your|placeholder|example|todo|fixme|^x+$|^(token|secret|"
                                r"password|test|demo|default|123456|abc)$|填写|填入|替换|你的|您的|待填|此处", re.I)


# The keys whose values must be secret. A value printed in code anyone can read is none, whichever key it is given to;
# nor is a placeholder word. Where each one's real value comes from, said when it is refused.
SECRET_SOURCES = {
    "wechat.token": "the Token entered in 公众号后台 → 设置与开发 → 基本配置 → 服务器配置",
    "wechat.aes_key": "the EncodingAESKey 公众号后台 generates there (随机生成), or leave it empty for plaintext mode",
    "wechat.appsecret": "the AppSecret from 公众号后台 → 设置与开发 → 基本配置",
    "server.link_secret": "a random value, e.g. `openssl rand -hex 32`",
}
SECRET_KEYS = tuple(SECRET_SOURCES)
# Values published in WeChat's documentation and samples and in wechatpy's tests (../shared/data/wechat_vectors.json)
# and where each is from; the demo's own (bot/demo.DEMO_WECHAT) are added by published().
PUBLISHED = {
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG": "WeChat's message-encryption sample (Sample.py)",
    "spamtest": "WeChat's message-encryption sample (Sample.py)",
    "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR": "wechatpy's tests",
}


def published() -> dict[str, str]:
    """Every published value (PUBLISHED and the demo's, which ships in this package), with where it is printed."""
    from bot.demo import DEMO_WECHAT  # here: bot.demo imports this module
    return {**{v: "the demo's settings (bot/demo.py)" for v in DEMO_WECHAT.values()}, **PUBLISHED}


def weak(value: str, min_length: int, min_distinct: int) -> bool:
    """A secret shorter than `min_length`, or made of fewer than `min_distinct` different characters
    ("0000000000000000", "1212121212121212", sixteen spaces): guessable, however long."""
    value = value.strip()
    return len(value) < min_length or len(set(value)) < min_distinct


def is_placeholder(value: str) -> bool:
    return value.strip() in PLACEHOLDERS or bool(_PLACEHOLDER_WORDS.search(value.strip()))


def is_loopback(host: str) -> bool:
    import ipaddress
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Keys of earlier versions, with what replaced them, so an old config file gets a useful message.
REMOVED = {
    "outbox.max_attempts": "transient errors are now retried for ever (capped backoff); delete the line and see "
                           "outbox.stuck_minutes for the alert when delivery is stuck",
}

SECTIONS: dict[str, type] = {f.name: f.type for f in dataclasses.fields(Config) if f.name != "source"}
_SECTION_TYPES = get_type_hints(Config)
# each section's keys and their types, resolved once (get_type_hints evaluates every annotation again per call)
_SECTION_HINTS = {name: get_type_hints(_SECTION_TYPES[name]) for name in SECTIONS}


def _coerce(key: str, value: Any, typ: type, origin: str) -> Any:
    """Check (and, for environment strings, convert) one value against its declared type."""
    from_env = isinstance(value, str) and origin == "env"
    if typ is bool:
        if isinstance(value, bool):
            return value
        if from_env and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_env and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ConfigError(f"{key}: expected a whole number, got {value!r}")
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if from_env:
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if typ is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected text in quotes, got {value!r}")
    if typ == tuple[str, ...]:
        if from_env:
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"{key}: expected a list of texts like [\"a\", \"b\"], got {value!r}")
    raise AssertionError(f"unsupported config type {typ}")


def _build(raw: Mapping[str, Any], env: Mapping[str, str], source: str) -> Config:
    sections: dict[str, Any] = {}
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}]; known: {', '.join(SECTIONS)}")
    for name in SECTIONS:
        cls = _SECTION_TYPES[name]
        hints = _SECTION_HINTS[name]
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {name} must be a table [{name}]")
        values: dict[str, Any] = {}
        for key, value in table.items():
            if f"{name}.{key}" in REMOVED:
                raise ConfigError(f"{source}: {name}.{key} was removed: {REMOVED[f'{name}.{key}']}")
            if key not in hints:
                raise ConfigError(f"{source}: unknown key {name}.{key}; known in [{name}]: {', '.join(hints)}")
            try:
                values[key] = _coerce(f"{name}.{key}", value, hints[key], "file")
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
        for key, typ in hints.items():
            var = f"{ENV_PREFIX}{name}_{key}".upper()
            if var in env:
                try:
                    values[key] = _coerce(f"{name}.{key}", env[var], typ, "env")
                except ConfigError as exc:
                    raise ConfigError(f"environment variable {var}: {exc}") from None
        sections[name] = cls(**values)
    unknown_env = [
        v for v in env
        if v.startswith(ENV_PREFIX) and v not in _known_env_names() and v != "TINGJIAN_CONFIG"
    ]
    if unknown_env:
        raise ConfigError(f"unknown environment variable {unknown_env[0]}; names are TINGJIAN_<SECTION>_<KEY>")
    return Config(**sections, source=source).validate()


def _known_env_names() -> set[str]:
    names = set()
    for name in SECTIONS:
        for key in _SECTION_HINTS[name]:
            names.add(f"{ENV_PREFIX}{name}_{key}".upper())
    return names


def load_config(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Config:
    """Load a TOML file (or only defaults when path is None), apply env overrides, then explicit overrides."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        raw = read_toml(path, ConfigError)
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    return _build(raw, env, source)


def documented_keys() -> list[str]:
    """Every section.key the program understands; a test checks config.example.toml documents each."""
    return [f"{name}.{key}" for name in SECTIONS for key in _SECTION_HINTS[name]]
