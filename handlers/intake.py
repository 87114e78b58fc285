"""The intake conversation: from a person's first words to a submitted, routed ticket.

The steps are declared once, in order, in `STEPS` (state, whether it is still needed, what to ask, how an
answer is taken); `Intake._advance` asks the first step still needed, so a step is asked only when it matters:

    describe -> out_of_scope -> kind -> conduct -> focus (two matters) -> school -> similar -> phone -> anonymity
    -> confirm

(conduct: praise that also accuses a teacher's conduct is asked about, told the school will never see it.)

`DETOURS` are the questions that interrupt the path and return to it: a message that looks like a new matter
(new_matter), a reply that could be a rating of a resolved ticket (rating), and an earlier unsubmitted message
offered back (resume). What the person has said so far is a typed `Draft`, stored as JSON in SQLite
(storage.conversations), so a restart in the middle changes nothing for the person.

No words are dropped: at every step and detour ONE rule (`Intake._is_answer`) decides whether a reply answers the
question on screen (the step's `read` finds its answer and nothing else said tells us more) or tells something
(`Intake._tells`), and then it is added to the message, offered as a new matter, or -- in a detour -- waits.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from handlers import names, numbers, privacy, texts
from handlers.messages import Inbound, Reply, nfkc, well_formed
from handlers.numbers import ascii_int
from handlers.textmemo import run_at_end, short_texts
from handlers.routing.normalise import to_simplified  # the router's own OpenCC conversion
from storage import jsontext

KINDS = {"1": "complaint", "2": "suggestion", "3": "inquiry", "4": "praise"}
KIND_WORDS = {
    "complaint": ("投诉", "举报", "反映", "不满", "太过分", "乱收", "违规", "要求整改", "曝光", "维权", "怎么能",
                  "骂他", "骂她", "骂我家", "罚站",
                  "凭什么", "不合理", "退钱", "退费",
                  # what is done to a child or a parent: nobody writes these to praise or to ask
                  "欺负", "霸凌", "打人", "打学生", "打孩子", "体罚", "辱骂", "骂人", "骂学生", "骂孩子", "侮辱",
                  "歧视", "威胁", "恐吓", "猥亵", "性骚扰", "强制", "强迫", "逼迫", "索要", "红包", "收礼",
                  "不作为", "推诿", "敷衍", "踢皮球", "不闻不问", "置之不理", "克扣", "不给退",
                  "有偿补课", "不交不行", "不交不让", "不交就", "变相"),
    "suggestion": ("建议", "希望", "能否", "能不能", "可否", "呼吁", "提议", "应该", "最好"),
    "inquiry": ("请问", "咨询", "想问", "问一下", "问下", "怎么办", "如何", "什么时候", "哪里", "吗", "？", "?",
                "多少", "是否", "有没有", "需要什么"),
    "praise": ("表扬", "感谢", "点赞", "谢谢", "辛苦了", "负责任", "好老师", "致敬", "锦旗"),
}
KIND_NAMES_ALL = (("投诉", "complaint"), ("举报", "complaint"), ("建议", "suggestion"), ("咨询", "inquiry"),
                  ("请问", "inquiry"), ("表扬", "praise"), ("感谢", "praise"))
YES = {"1", "是", "好", "好的", "对", "确认", "提交", "可以", "同意", "嗯", "ok", "yes"}
NO_WORDS = {"不", "不用", "否", "不同意", "不要", "no"}
SKIP = {"0", "零", "〇", "跳过", "不留", "不用了", "无", "没有", "不方便"}
MIN_DESCRIPTION = 8  # shorter than this, and we ask for a little more detail
UNPLACED_ASKED_UP_TO = 60  # a line nothing places is asked about once; a longer letter goes to the duty office unasked
FOLLOW_UP_CHARS = 30  # a question this short from someone with an open ticket is most likely about it
FOLLOW_UP_CHARS_EN = 100  # the same question in English letters ("Will the portions really be bigger?")
SUPPLEMENT_CHARS = 10  # this many Chinese characters where a short answer was expected: more of the story
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

_encode = jsontext.encoder()  # json.JSONEncoder(ensure_ascii=False).encode's text, cheaper


# Patterns asked inline on the hot path, compiled once (re's own cache is full with the router's and can evict them)
_WORDY = re.compile(r"[\w\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_SUBMIT_WORD = re.compile(r"提交|确认|(?:交|递|报|发)(?:上去|出去|给你们)")  # 直接交上去行吗？ at the summary: yes
_FIVE_DIGITS = re.compile(r"\d{5}")


@functools.lru_cache(maxsize=4096)  # a pure function of the text, read several times per message
def normalise(text: str) -> str:
    """Full-width digits and letters to ASCII, traditional characters to simplified (學校 = 学校, as the router
    reads them), a kind's name mistyped read as the name (SLIPS), spaces trimmed: what a phone keyboard sends
    varies. For reading only: the words kept are as typed."""
    if text in _FIXED:  # a result of this function already known to be its own result (below)
        return text
    t = nfkc(text).strip()
    if not HAN.search(t):
        return _fixed(t)
    s = to_simplified(well_formed(t))
    if s is t and not _SLIP.search(t):
        return _fixed(t)
    return _SLIP.sub(lambda m: SLIPS[m.group(0)], s) if _SLIP.search(s) else s


# Results that normalise to themselves. The text a message is read as is normalised again by most checks given it
# (they also take raw text), and a comma typed "，" makes it a new key: computed twice a message. A result that no
# stage changed but NFKC and strip, and that NFKC leaves as it is, gives itself again stage by stage: NFKC and strip
# change nothing, and the rest is the same call on the same string. Cleared when full, as the lru's keys turn over.
_FIXED: set[str] = set()


def _fixed(t: str) -> str:
    if unicodedata.is_normalized("NFKC", t):
        if len(_FIXED) >= 4096:
            _FIXED.clear()
        _FIXED.add(t)
    return t


HAN = re.compile(r"[\u3400-\u9fff]")
# The kinds' names as a pinyin keyboard mistypes them (tou shu for tou su, a neighbour picked from the candidates):
# never words of their own (投宿 and 资讯 are, and are left alone). A table, not a rule: a generated one read
# 建一个 as 建议 and 据报道 as 举报.
SLIPS = {"投述": "投诉", "投素": "投诉", "头诉": "投诉", "举抱": "举报", "建意": "建议", "建义": "建议",
         "资询": "咨询", "咨讯": "咨询", "表杨": "表扬"}
_SLIP = re.compile("|".join(SLIPS))


# Saying the kind outright decides it, whatever else the message contains ("…合理吗？我要投诉").
COURTESY = "请问"  # of these, the one that opens any message politely, complaints too (see CHARGED)
EXPLICIT = {"complaint": ("投诉", "举报"), "suggestion": ("建议",), "inquiry": ("咨询", "请问"),
            "praise": ("表扬", "感谢")}


# 班主任不管 / 学校也不管了 (but not 不管多晚 "however late"): nobody dealing with it, a grievance.
NOBODY_ACTS = re.compile(r"不管(?:不顾|不问)?(?=$|了|[\s。，,！!？?；;…])|没人(?:管|修|处理|理|过问)")
# Harm told by its outcome: 打出血了, 把我娃打肿了, 掐紫了, 踢伤, 罚站晕倒 -- a person's act on a body, then what it
# left (within a sentence; a fall or a ball game is no one's act). Nobody tells this to praise or merely to ask:
# it is a complaint, whatever else is said.
HARM = re.compile(r"(?:打(?![篮排羽乒网足球针疫扫卡印电工车游听])|揍|掐|踢(?!球|毽)|踹|扇|抽(?![查签烟屉奖空血])|揪|拧|"
                  r"推(?![荐广销迟进行])|咬|砸|捏|戳|扔|罚(?![款钱])|拽|扯|勒|烫)[^。.！!？?；;\n]{0,8}?"
                  r"(?:出血|流血|见血|血了|肿|紫|青了|淤青|瘀青|伤|骨折|破了|破皮|晕|聋|掉了|红了|印子)")
HARM_EN = re.compile(r"\b(?:bull(?:y|ied|ies|ying)|hit|hits|hitting|beat|beaten|beating|slap(?:ped|s)?|kick(?:ed|s)?|"
                     r"punch(?:ed|es)?|hurt|injured|abus(?:e|ed|ing)|threaten(?:ed|s)?|push(?:ed)? (?:him|her|them|me)|"
                     r"bruis(?:e|ed|es)|bleeding)\b", re.I)
# What makes a message a complaint besides its words (KIND_WORDS): one list, counted by _count; harm decides it.
GRIEVANCES = (NOBODY_ACTS, HARM, HARM_EN)
DECISIVE = (HARM, HARM_EN)


# 收费每人500 / 交了300元 / 每个学生收200: a sum charged, reported as a fact -- what a complaint about fees tells; a
# question names none it does not know (要交多少, 收费吗). Behind 请问 it is asked whether it is a complaint.
_SUM = r"(?:\d+|[一二两三四五六七八九十百千]+(?=元|块))"
CHARGED = re.compile(r"(?:收|交|缴|要|花|付|补交)(?:了|费|取|钱)?(?:我们?|每人|每个人|每生|每个学生|每个孩子|一人)?" + _SUM +
                     r"|每(?:人|个人|生|位|个学生|个孩子)(?:收|交|缴)?(?:费|了)?" + _SUM)


# 要交50元吗 / 是不是要交200元资料费 / 校服要交300吗？: the sum itself asked about -- a question, not a charge reported
# (the words between name what is paid -- 报名费 -- never a judgement of it: 收费每人500元这样可以吗 is reported)
_SUM_ASKED_AFTER = re.compile(r"\s*(?:元|块钱?|rmb|yuan)?(?:左右)?(?:(?!这|那|合理|正常|可以|行|对)[^，,。.！!；;\s]){0,5}?(?:吗|(?<!什)么|嘛|[?？])")
_SUM_ASKED_BEFORE = re.compile(r"(?:是否|是不是|要不要|需不需要|用不用|该不该|能不能|可不可以)[^，,。.！!；;\s]{0,4}$")


def charge_reported(text: str) -> bool:
    """A sum charged told as a fact (收费每人500, 交了300元), not asked about (要交50元吗)."""
    for m in CHARGED.finditer(text):
        if _SUM_ASKED_AFTER.match(text, m.end()) or _SUM_ASKED_BEFORE.search(text, 0, m.start()):
            continue
        return True
    return False


def _by_first(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for w in words:
        out.setdefault(w[0], []).append(w)
    return {ch: tuple(ws) for ch, ws in out.items()}


# Each kind's words by their first character: a word whose first character is not in the text occurs 0 times, so
# only the words starting with one of the text's characters are counted (a new draft is read for every kind).
_KIND_FIRST = {kind: _by_first(words) for kind, words in KIND_WORDS.items()}


@functools.lru_cache(maxsize=16)  # infer_kind counts a draft's grievances twice (the text, and it without denials:
def _count(text: str, kind: str) -> int:  # most often the same text)
    first = _KIND_FIRST[kind]
    n = sum(sum(map(text.count, first[ch])) for ch in first.keys() & set(text))
    return n + sum(len(p.findall(text)) for p in GRIEVANCES) if kind == "complaint" else n


@functools.lru_cache(maxsize=4096)  # pure; asked again over the whole draft on every step of a conversation
def infer_kind(text: str) -> str | None:
    """The kind when the words say it clearly, else None (and we ask). Praise is closed at once with no
    deadline, so a complaint must never pass for it: thanks with a grievance in it is asked about."""
    kind = _infer_kind(text)
    told = privacy.NEGATED.sub("", text)  # 她从不打骂孩子 praises; it accuses nobody
    grievances = _count(told, "complaint") + sum(map(told.count, EXPLICIT["complaint"]))
    if kind == "praise" and grievances:
        return None
    if kind in ("suggestion", "inquiry") and grievances >= 2:
        return None  # a long complaint that ends "建议…" or asks "合理吗": the person says which
    if kind == "inquiry" and charge_reported(told) and not any(w in told for w in EXPLICIT["inquiry"] if w != COURTESY):
        return None  # 请问…周六补课 收费每人500: a charge reported, not asked about -- the person says which (咨询 said)
    return kind


def _infer_kind(text: str) -> str | None:
    named = [kind for kind, words in EXPLICIT.items() if any(w in text for w in words)]
    if len(named) == 1:
        return named[0]
    if any(p.search(text) for p in DECISIVE):  # 老师把我娃打出血了，这正常吗？ -- still a complaint
        return "complaint"
    if not named and not han_count(text) and english_kind(text) in ("complaint", "suggestion"):
        return english_kind(text)  # "I want to complain about …" (praise is closed at once: asked, never guessed)
    scores = {kind: _count(text, kind) for kind in KIND_WORDS}
    best = max(scores.values())
    if best == 0:
        return None
    winners = [k for k, v in scores.items() if v == best]
    if len(winners) == 1:
        return winners[0]
    # 投诉 words usually carry the demand even when a question mark follows
    return "complaint" if "complaint" in winners else None


def _t(d: "Draft", name: str) -> str:
    """A reply text in the language the person writes in (Draft.lang, from the router on their first words)."""
    return texts.pick(name, d.lang)


def _kind_name(d: "Draft") -> str:
    """The kind as the filed ticket will be named (desk.kind_name's rule, urgency as Plan.urgent)."""
    return texts.kind_name(d.kind, d.kind != "praise" and bool(d.routing.get("urgent")), d.lang)


mask_phone = privacy.mask_phone  # (where it was first written; desk, pages and exports import it from here)


# 一 / 二 / 零 typed (or said) alone at a numbered question: the digit
HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@short_texts  # pure; asked several times of each reply
def choice(text: str, options: int) -> int | None:
    t = normalise(text).rstrip("。.、")
    n = ascii_int(t, 2)  # not str.isdigit: ፩ and 𐩀 are "digits" int() refuses
    if n is None and len(t) == 1:
        n = HAN_DIGITS.get(t)
    return n if n is not None and 1 <= n <= options else None




# -- natural answers ----------------------------------------------------------------------------------------
# People answer in words as often as with the number offered: 我不想留, 同意吧, 为什么要留电话？
QUESTION = re.compile(r"为什么|为啥|干嘛|干什么|做什么|什么用|有啥用|有什么用|安全吗|会不会|泄露|泄漏|[?？]")
ASKED = re.compile(r"[吗嘛呢][\s?？!！。.~～]*$")  # 这合理吗 without its question mark: no school's name ends so
DECLINE = re.compile(r"^(?:我?(?:就|还是|暂时)?(?:不想|不愿意?|不用|不要|不方便|不留|不需要|不必|不给|没有|没|无|"
                     r"免了|算了|跳过|拒绝|不涉及)|0$|否|no\b|skip\b)", re.I)
AGREE_DESPITE_NO = ("不介意", "不在乎", "不在意", "没关系", "无所谓", "没问题", "不怕")
_AGREE_DESPITE_NO = re.compile("|".join(map(re.escape, AGREE_DESPITE_NO)))  # one pass (yes_no: every reply)
REFUSE = re.compile(r"不|别|保密|匿名|拒绝|^no\b|^否|\b(?:don'?t|do not) agree\b|\bdisagree\b", re.I)
NOT_UNDERSTOOD = re.compile(r"不知道|不清楚|不确定|不明白|不太?懂|看不懂|什么意思|啥意思|说不好|说不清|不好说")
WHICH_UNSURE = re.compile(NOT_UNDERSTOOD.pattern + r"|怎么选|选哪|选什么|哪个是|有什么区别|什么区别")
AGREE = re.compile(r"同意|可以|^行|^好|愿意|^是|^嗯|^对|^ok\b|^yes\b|^中$|没事|^i agree\b", re.I)
PHONE_IN_TEXT = privacy.PHONE_IN_TEXT
# A number said to voice input or typed by hand: 一三八一二三四五六七八, 幺三八…, with spaces between.
_CN_PHONE = re.compile(rf"[{numbers.SPOKEN}0-9](?:[\s-]*[{numbers.SPOKEN}0-9]){{6,}}")


def phone_digits(text: str) -> str:
    """The text as a phone number is looked for in it: no spaces or +86, a number in Chinese digits as digits."""
    text = _CN_PHONE.sub(lambda m: numbers.as_digits(re.sub(r"[\s-]", "", m.group(0))), text)
    return text.replace(" ", "").replace("+86", "")


@short_texts  # pure
def yes_no(text: str) -> bool | None:
    """True for agreement (同意吧, 可以, 行, 不介意), False for refusal (不同意, 不行, 保密), None if neither."""
    t = normalise(text).lower()
    n = choice(t, 2)
    if n:
        return n == 1
    if _AGREE_DESPITE_NO.search(t):
        return True
    rest = NOT_UNDERSTOOD.sub("", t)
    if rest != t:  # 我不太懂 is no 不 of refusal: what else is said decides, or the question is asked again
        if not REFUSE.search(rest) and not AGREE.search(rest.strip(PUNCT)):
            return None
        t = rest.strip(PUNCT)
    if REFUSE.search(t):
        return False
    if AGREE.search(t):
        return True
    return None


def one_or_two(text: str) -> int | None:
    """A "1 是 / 2 不是" question's answer, by its number or in words (好的, 不是): 1, 2 or None."""
    yn = yes_no(text)
    return None if yn is None else 1 if yn else 2


# -- an answer, or more of the story (Intake._is_answer) --------------------------------------------------
SENTENCE_CHARS = 5  # this many Chinese characters, beyond fillers, that answer nothing tell us something: kept
SENTENCE_WORDS = 4  # or this many English words ("the teacher hit him")
PUNCT = " \t\r\n,，.。!！?？~～、;；:：…—-()（）\"“”'‘’"
FILLER = re.compile(r"[了吧呢啊呀哦嘛吗嗯哈噢喔]")
# Replies about the question itself, or hesitation: never a matter's words, whatever their length.
UNSURE = re.compile(r"不知道|不清楚|不确定|不明白|不懂|看不懂|什么意思|啥意思|随便|都行|都可以|无所谓|怎么选|选哪|选什么|说不好|说不清|不好说|难说|"
                    r"看着办|你们(?:来)?(?:定|决定|判断)|"
                    r"都要紧|都重要|一样重要|都很重要|都急|不太(?:知道|清楚|确定|记得)|记不清|"
                    r"想想|考虑|等一下|等等|稍等|再说|算了")
APART = re.compile(r"分开|分别|单独|各自|拆开|separate", re.I)  # 能不能分开反映: one matter sent on its own
# 经常这样, 好几次了, 一直没人管: how often or how long, said in a few words -- more of the story, kept.
HOW_OFTEN = re.compile(r"经常|一直|总是|老是|天天|每天|每次|每回|好几次|好多次|多次|反复|屡次|几次了|不止一次|又这样|又是这样|"
                       r"从来|从.{1,6}(?:开始|起)就")
# A sum of money (一节课收200, 300块, 扣了50元) or a child's grade or class (读五年级, 初二, 三班): part of the story,
# however few its words (and kept with a school's name said with it).
# A number is tried from its first digit only ((?<!...)): tried from each of its digits, a long run of them with no
# unit after it cost time quadratic in its length, on the writer thread (4,300 digits: 2.5 s; the webhook's
# answer missed WeChat's 5 s on a loaded machine). A match inside a run implies one from its start: same answer.
FACTS = re.compile(r"(?<!\d)\d+(?:\.\d+)?\s*(?:元|块|万|千|百|rmb|yuan)|(?:收|交|花|付|退|罚|扣|要)了?(?:我们?|每人|每个人)?\d+|"
                    r"[一二三四五六七八九1-9]年级|[初高][一二三](?![中])|(?<![一二三四五六七八九十\d])[一二三四五六七八九十\d]+班")
# 这合理吗 / 这正常吗 / 违规吗: a short question that judges the matter (kept with it, as its longer forms are)
JUDGED = re.compile(r"合理|正常|合法|合规|违规|违法|允许|过分|公平|正当|有道理|说得过去|对吗|对不对|应该吗|该不该")
# The question's own words: they belong to the answer, not to the story.
KIND_NAMED = re.compile(r"投诉|举报|建议|咨询|请问|表扬|感谢|类型|选|改[为成]?|换成|应该?是|属于|算|不是|是|这")
SCHOOL_WORDS = re.compile(r"学校|小学|中学|初中|高中|幼儿园|学院|校区|分校|就读|在|读|上学|年级|班|\d+")
# 实验小学吧 好像是江南的: how sure one is of the name, said around it -- nothing of the matter
SCHOOL_HEDGE = re.compile(r"好像|应该|可能|大概|估计|似乎|貌似|也许|我?记得|我?觉得|是|的|那边|这边|那个|那所|这所|那家")  # (江北那边 文昌小学吧)
SCHOOL_CHARS = re.compile(r"[校园学中小院]")
SCHOOL_PLACE = re.compile(r"[\u4e00-\u9fff]{2}")  # a place is two characters at least (names.place_named)
# Words around a school's name in an English reply that say nothing more ("Wenchang Primary School please").
LATIN_COURTESY = frozenset({"please", "thanks", "thank", "you", "ok", "okay", "yes", "hi", "hello", "sorry", "school"})
# 不对不对 不是育英 是实验小学 / 搞错了，应该是滨河小学: a school named as a correction (it was asked whether another
# matter had begun, and the school stayed wrong)
SCHOOL_CORRECTED = re.compile(r"^(?:(?:不对|错了|搞错了|说错了|写错了|弄错了|打错了)[，,\s。!！]*)*"
                              r"(?:不是[\u4e00-\u9fff]{1,12}?[，,\s。]*(?:而)?(?=是|应该是))?(?:应该)?")
SCHOOL_LEAD = re.compile(r"^(?:就|学校|我们|孩子|孙子|孙女|儿子|女儿)?(?:是|在|读)")  # 是滨河小学 at any question
# (哦 对 是江南的 我记错了: an acknowledgement before, a slip owned after -- nothing of the matter)
# (the words at the end not tried from inside a run of commas and spaces: a match there is one from the run's start,
# and trying each place read the run to its end, quadratic on the writer)
OPTION_POINTING = re.compile(r"^(?:(?:哦|噢|啊|嗯|对|对的|是的?|就是|应该是)[\s,，。!！]*)+|"
                             r"(?:(?<![\s,，。])|(?![\s,，。]))的?(?:那个|那所|这个|这所|那家|那里)?(?:学校)?[吧啊呀]?"
                             r"(?:[\s,，。]*我?(?:记|搞|说|写|弄|打)错了[吧啊呀]?)?$")
# 孩子在|江南实验小学, 想表扬一下|江南实验小学: what comes before a name
NAME_LEAD = re.compile(r"[在是的读去到了从我们说]|表扬(?:一下)?|感谢|谢谢")
# 市一中, 十五中: a numbered school as people say it (not 一中午, 三中全会)
NUMBERED_SCHOOL = r"[一二三四五六七八九十0-9]{1,3}中(?![学午间途心全国文药])"
_SCHOOL_KIND = r"(?:小学|中学|初中|高中|幼儿园|学校|学院|职高|中专|附小|附中|" + NUMBERED_SCHOOL + ")"
SCHOOL_NAME = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{0,10}" + _SCHOOL_KIND)
# A name's last word alone: where it is not, SCHOOL_NAME finds nothing, and this finds it in ~1/8 of the time (a
# sentence at the school question: SCHOOL_NAME tries eleven lengths at each character before failing there)
SCHOOL_KIND = re.compile(_SCHOOL_KIND)
_NUMBERED_NAME = re.compile(r"[市区县]?" + NUMBERED_SCHOOL)
PHONE_TOPIC = re.compile(r"^(?:我的?)?(?:电话|手机|号码|联系方式)(?:号码?)?(?:就|还是|暂时)?")  # 电话不方便留
OTHER_CONTACT = re.compile(r"微信|邮箱|qq|座机|固话", re.I)  # answered, but not with a number: asked again
PHONE_WORDS = re.compile(r"电话|手机|号码|号|联系|方式|打|留|给|可以|微信|邮箱|座机|固话|行|个|不想|不愿意?|不用|不方便|不留|不需要|为什么|"
                         r"为啥|什么用|有什么用|有啥用|安全|泄露|泄漏|会不会|干嘛|\d+|[-+]")
# Fear of what the school would do, said at the consent question: the person does not want to be known.
FEAR = re.compile(r"怕|担心|报复|穿小鞋|针对|打击|为难|记恨|被盯上")
ANONYMITY_WORDS = re.compile(r"同意|可以|愿意|不想|不愿|不要|不用|别|让|被|保密|匿名|身份|知道|告诉|透露|学校|老师|"
                             r"班主任|校长|他们|她们|最好|千万|一定|会|孩子|我家|"
                             r"怕|担心|报复|穿小鞋|针对|打击|为难|记恨|盯上|"
                             r"名字|姓名|是谁|是我|说的|反映的|信息|没关系|无所谓|介意|在意|在乎|怕|报复|行|不|对|"
                             r"为什么|为啥|安全|泄露|泄漏|会不会|干嘛")


# "1 补充到原留言" / "回复 1 提交，2 修改内容": a numbered option and its words (a note in brackets left out)
OPTION = re.compile(r"(?<![0-9])([1-9]) ?([\u4e00-\u9fff“”]{2,})")


def _labels(question: str) -> dict[str, str]:
    """A question's numbered options; the same few short questions are asked again and again (a summary, with
    the whole message in it, is read each time)."""
    return _short_labels(question) if len(question) <= 200 else _read_labels(question)


def _read_labels(question: str) -> dict[str, str]:
    return {n: label for n, label in OPTION.findall(question)}


_short_labels = functools.lru_cache(maxsize=256)(_read_labels)


# 我想改一下内容 / 等等，要修改 at the summary: option 2 (修改内容); 不用改了 is not
WANTS_EDIT = re.compile(r"(?<![不别用需])(?:修改|改一?下|改改|重写|重新写|重新填|改(?=内容|留言))(?:一下|下)?(?:内容|留言)?")
CONFIRM_WORDS = re.compile(r"提交|确认|没问题|没错|可以|同意|就这样|好的|好|行|对|是的|嗯|吧|了|呢|啊|那就|就|请|帮我|直接|能不能|"
                           r"可不可以|吗|(?:交|递|报|发)(?:上去|出去|给你们)")


# 别老问了 / 能不能别再问: impatience with the questions, no refusal of what is asked
_ASK_NO_MORE = re.compile(r"(?:能不能|可不可以|可以)?(?:别|不要)(?:老|再|总|一直|这么多)?问(?:了|啦)?")


def confirms(text: str) -> bool:
    """就这样提交吧, 没问题, 确认, 能不能别老问 直接交上去行吗？: yes to the question on screen, in words (不提交 is
    not)."""
    t = _ASK_NO_MORE.sub("", normalise(text))
    return bare(t) in YES or (yes_no(t) is True or bool(_SUBMIT_WORD.search(t))) and not REFUSE.search(t)


SAME = re.compile(r"同一件|同一个|同一回事|一样的事|就是那件|是那件|原来那|上次那|之前那")


MATTER_WORDS = re.compile(r"同一件|同一个|同一回事|一样的|就是|那件|原来|上次|之前|新的|另一件|别的|另外的|问题|事情?|不是|"
                          r"不算|是的|是|对|嗯|好|吧|了|的|呢|啊|留言|补充|合并|单独|提交|作为")


_DENIES = re.compile(r"不是|不算")
_ANOTHER = re.compile(r"新的|另一件|别的事|另外的事")


def same_matter(text: str) -> int | None:
    """At 'is it the same matter?': 1 for 是同一件事, 2 for 不是同一件 / 新的问题, else None."""
    negated = _DENIES.search(text) is not None  # (compiled once: asked about every message of a long conversation)
    if SAME.search(text):
        return 2 if negated else 1
    if _ANOTHER.search(text):
        return 1 if negated else 2
    return None


# The phone named right after a decline: 不留电话了, 不想给手机号.
PHONE_NAMED = re.compile(r"(?:留|给)?(?:联系)?(?:电话|手机|号码|联系方式)")


def declines_phone_unasked(text: str) -> bool:
    """A decline before the phone is asked counts only when it names the phone (电话就不留了吧, 不留电话了, 我没有手机):
    算了 说说别的… or 不想说了… at another question is about something else."""
    topic = PHONE_TOPIC.match(text)
    if topic and topic.group() and DECLINE.match(text[topic.end():]):
        return True
    declined = DECLINE.match(text)
    return bool(declined and PHONE_NAMED.match(text[declined.end():]) or han_count(text) <= 12 and NO_PHONE.search(text))


def declines_phone(text: str) -> bool:
    """不留 / 不方便 / 电话不方便留 / 0 / 我是学生 没有电话 / no thanks."""
    return text in SKIP or bool(DECLINE.match(text) or DECLINE.match(PHONE_TOPIC.sub("", text))
                                or han_count(text) <= 12 and NO_PHONE.search(text) or NO_PHONE_EN.fullmatch(text)
                                or han_count(text) <= 4 and not _DIGIT.search(text) and yes_no(text) is False
                                and not UNSURE.search(text))  # 不同意, 不: no; 不知道啊: asked again


# "no thanks", "I'd rather not", "skip": no number, in English
NO_PHONE_EN = re.compile(r"\s*(?:no|nope|none|skip|no,? thanks?(?: you)?|no need|rather not|i'?d rather not|not now|"
                         r"i (?:don'?t|do not) want to(?: give it)?)[\s.!]*", re.I)


# 我是学生 没有电话 / 手机不在身边: no number to give, said anywhere in a short reply
NO_PHONE = re.compile(r"(?:没有?|没得|不用|不方便|不想|不能)(?:留)?(?:电话|手机|号码)|(?:电话|手机)(?:不在身边|没有|丢了|坏了)|"
                      r"(?:别|不要|不用|千万别)(?:给我)?(?:打电话|打过来|打|联系我?|回电话?)")  # 这是我妈手机 别打


def storable(inbound: Inbound) -> Inbound:
    """The message with any lone surrogate (never valid UTF-8) replaced: every word of it is kept in the draft, and
    the draft must be storable."""
    text = inbound.text or ""
    clean = well_formed(text)
    return inbound if clean is text else dataclasses.replace(inbound, text=clean)


def bare(text: str) -> str:
    """A short reply without its trailing particles and punctuation: 好吧 → 好, 可以的。 → 可以."""
    return _PARTICLES.sub("", text) or text


_PARTICLES = run_at_end("吧啊呀嘛哈的了呗哦噢~～!！。.")


# A reply that is only a kind (建议, 我要投诉, 算咨询吧, 哦不对 是投诉), wherever it is typed.
BARE_KIND = re.compile(r"^(?:(?:哦|噢|哎|嗯|啊|呃|额|不对|错了|说错了|选错了|算了|还是|其实)[\s,，。.!！~～]*|不是[\s,，。.!！~～]+)*"
                       r"(?:我?是?(?:要|想)?|是|算|应该是|改为|改成)?(投诉|举报|建议|咨询|表扬)(?:一下)?[吧的了啊呀。.!！]*$")


# 不对 其实是建议吧 希望食堂能把饭菜保温 / 投诉，食堂饭菜是凉的: the kind, then more words after a break -- the kind
# taken and the words added (it was asked whether the person changed the subject)
KIND_LEAD = re.compile(BARE_KIND.pattern.removesuffix("$") + r"[\s,，。.!！~～]+(?=\S)")


# A kind that corrects one (改为建议, 不对，是咨询, change it to a suggestion): typed just after submitting, it is
# about the message just filed, never the start of a new one.
KIND_CORRECTION = re.compile(r"改为|改成|换成|应该是|应是|不对|错了|不是|其实")
EN_KIND_CHANGE = re.compile(r"^(?:please\s+)?(?:change|make|turn|switch)\s+(?:it|this|that|my message)?\s*(?:in)?to\s+"
                            r"(?:an?\s+)?(complaint|suggestion|question|inquiry|enquiry|praise)\W*$", re.I)
EN_KIND_WORDS = {"complaint": "complaint", "suggestion": "suggestion", "question": "inquiry", "inquiry": "inquiry",
                 "enquiry": "inquiry", "praise": "praise"}


@short_texts  # pure; every new message asks it
def kind_correction(text: str) -> str | None:
    """The kind a correction asks for (改为建议 -> suggestion), else None."""
    en = EN_KIND_CHANGE.match(text)
    if en:
        return EN_KIND_WORDS[en.group(1).lower()]
    bare = BARE_KIND.match(text)
    return dict(KIND_NAMES_ALL)[bare.group(1)] if bare and KIND_CORRECTION.search(text) else None


@short_texts  # pure
def named_kind(text: str) -> str | None:
    """The one kind a short reply names (我要投诉, 建议吧, 改为咨询), else None."""
    wanted = re.search(r"(?:改为|改成|换成|应该是|应是|属于|算)(投诉|举报|建议|咨询|请问|表扬|感谢)", text)
    if wanted:
        return dict(KIND_NAMES_ALL)[wanted.group(1)]
    text = re.sub(r"不是(?:投诉|举报|建议|咨询|表扬|感谢)", "", text)  # 不是投诉 names what it is not
    found = {kind for word, kind in KIND_NAMES_ALL if word in text}
    if not found and english_words(text) and not han_count(text):
        return english_kind(text)
    return found.pop() if len(found) == 1 else None


# A kind said outright as the message's (我要投诉, 其实我是想咨询一下…, …，改为建议, 这个算建议吧), not a kind's word
# within a story or a remark (建议严查, 请问…, 感谢): what may change a kind already named or guessed.
KIND_SAID = re.compile(r"(?:(?:我|我们)?是?(?<![不别没])(?<!不是)(?:要|想)(?:再)?|(?:改为|改成|换成|应该是|应是|属于|算|其实是))"
                       r"(投诉|举报|建议|咨询|表扬)|"
                       r"(?<![不还])是(?:个|一个)?(投诉|举报|建议|咨询|表扬)(?=$|[了吧啊呀的\s,，。.!！])")  # 这已经是投诉了


@short_texts  # pure
def kind_said(text: str) -> str | None:
    """The one kind the words say the message is (KIND_SAID, a reply that is only a kind, or one that opens with it),
    else None."""
    lead = BARE_KIND.match(text) or KIND_LEAD.match(text)
    if lead:
        return dict(KIND_NAMES_ALL)[lead.group(1)]
    found = {dict(KIND_NAMES_ALL)[m.group(1) or m.group(2)] for m in KIND_SAID.finditer(text)}
    if not found and not han_count(FILLER.sub("", KIND_NAMED.sub("", text))):
        return named_kind(text)  # 这是建议 / 是咨询不是投诉: nothing but the kind
    if not found and not han_count(text):
        return kind_correction(text)  # change it to a suggestion
    return found.pop() if len(found) == 1 else None


# WeChat's own smileys arrive as their names in brackets: [微笑] [捂脸] [抱拳] [强] [OK]
WECHAT_EMOJI = r"\[(?:[\u4e00-\u9fff]{1,4}|OK|Emm|666)\]"
EMOJI = r"(?:[\U0001F300-\U0001FAFF\u2600-\u27BF]|" + WECHAT_EMOJI + ")"  # 😊 👍 🙏 [微笑]: with words, never words
# 你好 / 您好老师 / 老师您好，在吗？: greetings, one or several, with their punctuation.
# (老师 alone, as in 老师 你好😊 or a bare 老师？, calls for attention: a greeting, never words of a story)
# 你号 / 您号: 好 as a pinyin keyboard slips (hao, its neighbour picked), and 你好啊啊: a particle held down -- still
# a greeting (it was kept as the first line of the complaint). Never 你号码…
_HAO = r"(?:好|号(?!码))(?:啊|呀|哈|鸭)*"
# 怎么没人回 / 还没人理吗 / 你们怎么不回复: no answer seen yet (after 30 喂 it was sent to 12345 as a matter)
_NOBODY_ANSWERS = (r"(?:你们|您)?(?:怎么|咋|为什么|为啥)?(?:还|都)?(?:没有?人(?:在|回|回复|回答|理|搭理|应|说话|管)?|"
                   r"不(?:回|回复|回答|理|说话))(?:我|一下)?(?:的|呢|啊|呀|吗|么|了|啦)*")
# is anyone there / anybody there? / are you there / why is nobody answering: 在吗 and 怎么没人回, in English
_WHO_EN = r"(?:any ?one|any ?body|some ?one|some ?body)"
_CALLS_EN = (r"(?:is|are)\s+(?:there\s+)?(?:" + _WHO_EN + r"|you)(?:\s+(?:there|here|around|online|home|in))?|"
             r"(?:" + _WHO_EN + r"|you)\s+(?:there|here|around|online|home)|" + _WHO_EN + r"|"
             r"(?:why\s+)?(?:is\s+|does\s+)?(?:no ?one|nobody)\s+(?:is\s+)?(?:(?:answer|reply|respond|help)\w*(?:\s+me)?|here|there)|"
             r"(?:why\s+)?no\s+(?:reply|answer|response)s?")
GREETING = re.compile(r"(?:(?:" + _CALLS_EN + r"|(?:你|您)" + _HAO + r"(?:老师|领导|同志|工作人员)?|(?:老师|领导)(?:你|您)?" + _HAO + r"|老师|领导|hi|hello|"
                      r"(?:早上|上午|中午|下午|晚上)好(?:啊|呀)*|早安|"
                      r"(?:还|都)?在吗|在不在|有人吗|有人在吗|有没有人(?:在)?(?:啊|呀|吗)?|人呢|喂|" + _NOBODY_ANSWERS + r")"
                      r"(?:[\s!！。.~～，,?？\ufe0f\u200d]|" + EMOJI + ")*)+", re.IGNORECASE)
# 喂 / 在吗 / 怎么没人回: a call for attention (of GREETING), answered "我在" and asked what happened
CALLS = re.compile(r"喂|在吗|在不在|有人|人呢|没有?人|不(?:回|理|说话)|" + _WHO_EN + r"|you\s+there|no ?one|nobody|"
                   r"no\s+(?:reply|answer|response)|hello\s*[?？]", re.IGNORECASE)
# with a message in hand: most likely about it
CALLS_IMPATIENT = re.compile(r"没有?人|不(?:回|理|说话)|no ?one|nobody|no\s+(?:reply|answer|response)", re.IGNORECASE)

# 谢谢 / 非常感谢 / 好的谢谢你们的帮助 / 谢谢你们帮忙 / 谢谢你们 辛苦了 / 好的收到: thanks said to us, however warmly, for
# our help, no matter in it -- a chat's closing words, never praise to file (感谢王老师… names someone: praise; 感谢你们的
# 付出 thanks the work, not this chat: praise too).
_THANKS_FOR = r"(?:的?(?:耐心|热心|及时)?(?:帮助|帮忙|解答|答复|回复|指导)|(?:帮忙|帮我|帮助我?)(?:了|啦)?)"
_THANKED = r"(?:你们|您们|您|你|老师|大家|了|啦|哈|啊|呀)*"
THANKS = re.compile(r"(?:(?:非常|十分|特别|太|真是?|真的|实在|万分|衷心)?(?:(?:谢谢|感谢|多谢|谢了)" + _THANKED + _THANKS_FOR
                    + r"?|麻烦" + _THANKED + r")(?:了|啦)?|"  # (麻烦你们帮忙 asks for help: no thanks yet)
                    r"(?:你们|大家)?辛苦(?:你们|您|大家)?(?:了|啦)|好的|好|收到|知道了|明白了|"
                    r"嗯|ok|thanks?(?: you)?(?: (?:so|very) much)?(?: for (?:your|the) help)?)"
                    r"(?:[\s!！。.~～，,啊呀哦哈嘛\ufe0f\u200d]|" + EMOJI + ")*",
                    re.IGNORECASE)


# 是的 / 对 / 嗯嗯 / yes: a yes with no question on screen (the answer to an officer's question is asked about first)
ACK_ONLY = re.compile(r"(?:是的?|对的?|对对|嗯+|yes|yep|yeah)[\s!！。.~～]*", re.IGNORECASE)
_THANKS_ONLY = re.compile(rf"(?:{THANKS.pattern})+", re.IGNORECASE)
THANKED = re.compile(r"谢|辛苦|麻烦|thank", re.IGNORECASE)  # of THANKS, the words that thank (好的, 收到 acknowledge)
# 🙏🙏 / 😭 / 👍: a feeling, no words -- the question on screen again, whole
# (marks, then the first emoji, then either: an emoji read by the first run too was tried as "the" one at each place)
EMOJI_ONLY = re.compile(rf"[\s!！。.~～，,?？\ufe0f\u200d]*{EMOJI}(?:{EMOJI}|[\s!！。.~～，,?？\ufe0f\u200d])*")


@short_texts  # pure; asked of most new messages
def thanks_only(text: str) -> bool:
    return bool(text) and _THANKS_ONLY.fullmatch(text) is not None


# 挺好的，继续加油！ / 辛苦了 继续加油 / 你们做得挺好的👍 / Great job, keep it up!: encouragement of the bureau's work,
# nothing to file -- thanked, never asked for more of it or sent to 12345 (a teacher praised by name is praise: filed)
_CHEER = (r"(?:你们|您)?(?:做得|干得|办得)?(?:挺|很|真|太|非常|特别|蛮|超)?(?:好|棒|不错|给力)(?:的|啊|呀|了)*|"
          r"(?:继续|一起)?(?:加油|努力)(?:哦|啊|呀)?|(?:给你们|给您)?点(?:个)?赞|(?:谢谢|感谢)(?:你们|您)?|(?:你们|大家)?辛苦(?:了|啦)|"
          r"(?:great|good|nice) (?:job|work)|well done|keep (?:it )?up(?: the good work)?|keep going|thanks?(?: you)?")
_CHEERS = re.compile(rf"(?:(?:{_CHEER})(?:[\s!！。.~～，,]|{EMOJI}|\ufe0f)*)+", re.IGNORECASE)
_CHEER_WORD = re.compile(r"加油|努力|棒|不错|赞|给力|好|job|work|well done|keep", re.IGNORECASE)


@short_texts  # pure; asked of a first message
def encourages(text: str) -> bool:
    return (bool(text) and _CHEERS.fullmatch(text) is not None and _CHEER_WORD.search(text) is not None
            and not thanks_only(text))  # (好的 / 谢谢 alone: thanks, answered as thanks)


# 不满意！！ / 太差了 / 差评: displeasure opening a short message -- with a message in hand, most likely about it
DISPLEASED = re.compile(r"(?:很|非常|太|特别|十分)?(?:不满意|不太满意|差评)|(?:太差|很差)(?:了|劲)?(?=$|[!！。.，,\s])")


# "图片在哪发", "怎么发照片", "可以发视频吗", "how do I send a photo": a question about the chat itself, answered and
# never added to the message. Short: "老师不让孩子发照片，还没收了手机" is a story, not this question.
MEDIA_WORD = r"(?:图片|照片|相片|截图|截屏|图|视频|录像|小视频|语音|录音|附件|证据|文件)"
SEND_WORD = r"(?:发|传|上传|提交|附上?|给你们|发给你们|发过来|发送)"
HOW_WORD = r"(?:怎么|咋|怎样|如何|在哪|哪里|哪儿|能不能|可不可以|可以|能否|能|行不行|方便)"
MEDIA_HOW = re.compile(rf"^(?:请问|问下|问一下|那|我)?(?:{SEND_WORD}(?={MEDIA_WORD}))?(?:{HOW_WORD}.{{0,3}}{SEND_WORD}.{{0,2}}{MEDIA_WORD}|"
                       rf"{MEDIA_WORD}.{{0,4}}{HOW_WORD}.{{0,2}}{SEND_WORD}|"
                       rf"{MEDIA_WORD}.{{0,4}}{SEND_WORD}.{{0,3}}(?:吗|嘛|么)|"
                       rf"{SEND_WORD}.{{0,2}}{MEDIA_WORD}.{{0,3}}(?:吗|嘛|么)|"
                       rf"{MEDIA_WORD}.{{0,2}}{SEND_WORD}(?:不了|不出去|不上去?|失败).{{0,4}}|"  # 图片发不出去怎么办
                       rf"{SEND_WORD}(?:不了|不出去|不上去?){MEDIA_WORD}.{{0,4}})"
                       r"[^\u4e00-\u9fff]*(?:吗|嘛|呢|么|啊|呀|吧|的)?[\s?？。.!！~]*$")
MEDIA_HOW_EN = re.compile(r"^(?:please\s+)?(?:how|where|can|could|may)\b[^.!?]{0,30}"
                          r"\b(?:send|upload|attach|share)\b[^.!?]{0,20}"
                          r"\b(?:photos?|pictures?|pics?|images?|videos?|voice|recordings?|files?|evidence)\b"
                          r"[^.!?]{0,20}[\s?.!]*$", re.I)


# "那什么时候能有结果", "多久能处理好", "when will I hear back": asked by someone with a message in hand, it is about
# that message (answered with its state and deadline), not a new one.
ASKS_PROGRESS = re.compile(r"^(?:(?:然后呢?|接下来呢?|好的?|嗯)[\s,，]*)?(?:那|请问|问下|问一下|我想问下?)?(?:我的?|这个|这件)?(?:留言|投诉|事情?|问题)?(?:大概|大约)?(?:还)?(?:要|得|需要)?"
                           r"(?:什么时候|啥时候|多久|多长时间|几天|哪天)(?:才)?(?:能|会|可以)?(?:有|给|处理|办|解决)?(?:个|我)?"
                           r"(?:结果|处理|回复|答复|办好|办完|处理好|解决|消息|回音|说法|好)?(?:了)?[吗呢啊呀么？?。.!！\s]*$")
ASKS_PROGRESS_EN = re.compile(r"^(?:so\s+)?(?:when will (?:i|we) (?:hear|get)|how long (?:will|does) it take|when will "
                              r"(?:it|this) be (?:done|handled|solved|sorted))\b[^.!?]{0,30}[?.!\s]*$", re.I)


# 怎么样了 / 有结果了吗 / 进度如何, just after submitting: how far it has got, not the start of another message
# (我那个作业的事怎么样了: the matter named in a few words before 的事 -- it began a new message)
ASKS_HOW_FAR = re.compile(r"^(?:那|请问|问下|问一下)?(?:(?:我|我们)?(?:那个|这个|那件|这件|上次|之前|刚才)?[\u4e00-\u9fff]{1,6}?的?(?:事情?|留言|投诉|问题)|"
                          r"(?:我的?|这个|这件|刚才的?|上次的?)?(?:留言|投诉|事情?|问题)?)(?:现在|目前)?"
                          r"(?:(?:处理|办理?)得?)?(?:(?:怎么样|咋样|如何)了?|(?:有)?(?:结果|消息|进展|回音|回复)了?(?:吗|么|没有?)|"
                          r"进(?:展|度)(?:怎么样|如何|咋样)?了?|到哪(?:一步|儿|里)?了)[吗呢啊呀么？?。.!！\s]*$")


# 然后呢 / 接下来怎么办 / 我还要做什么吗, with a message in hand: what happens next (nothing more is needed of them)
ASKS_NEXT = re.compile(r"^(?:(?:好的?|嗯|哦|那)[\s,，]*)?(?:然后呢|接下来呢|接下来(?:怎么办|呢|要?做什么|要?干什么)|下一步(?:呢|怎么办|做什么)?|"
                       r"(?:那)?我?(?:还|另外)?(?:要|需要|得|用)(?:再)?(?:做|干|准备)(?:点|些)?(?:什么|啥)(?:吗|呢|不)?|"
                       r"(?:那)?我?(?:就)?(?:在这)?等着?(?:就)?(?:行|可以|好)了?(?:吗|吧|是吧)?)[吗呢啊呀么？?。.!！\s]*$")


ASKS_NEXT_EN = re.compile(r"^(?:(?:ok(?:ay)?|so|and|then)[\s,]+)*(?:what happens (?:next|now)|what(?:'s| is) next|what now|"
                          r"what (?:do|should) i do (?:next|now)|(?:do|should) i (?:need to )?do anything(?: else)?)"
                          r"[?.!\s]*$", re.I)


_THANKS_LEAD = re.compile(rf"^(?:{THANKS.pattern})+", re.I)


@short_texts  # pure; every new message asks it
def asks_progress(text: str) -> bool:
    text = _THANKS_LEAD.sub("", text)  # "Thank you. How long will it take?"
    return bool(han_count(text) <= 16 and (ASKS_PROGRESS.match(text) or ASKS_HOW_FAR.match(text)  # (the count
                                           or ASKS_NEXT.match(text))                  # is remembered: first)
                or ASKS_PROGRESS_EN.match(text) or ASKS_NEXT_EN.match(text))


@short_texts  # pure; every new message and every step asks it
def asks_how_to_send(text: str) -> bool:
    """Whether a message only asks how (or whether) photos, voice or video can be sent."""
    t = normalise(text)
    return bool(han_count(t) <= 14 and MEDIA_HOW.search(t) or MEDIA_HOW_EN.search(t))


# 我是孩子奶奶，孙子在滨河小学上一年级: who writes and where the child studies, clause by clause -- no matter yet
# (上一年级 is also an admission keyword: the router's scores cannot tell an introduction from a matter).
INTRO_WHO = re.compile(r"^(?:(?:您好|你好|老师好|领导好)[，,\s]*)?我是.{0,10}$")
INTRO_WHERE = re.compile(r"^(?:我家|我的|我们家)?(?:孩子|孙子|孙女|儿子|女儿|外孙|外孙女|小孩|娃|我)?(?:现在)?(?:在|读|上|是)?"
                         r".{0,12}?(?:上|读|念|在)?(?:[一二三四五六七八九初高]\S{0,2}年级|[一二三四五六七八九十\d]+班|[初高][一二三]|小学|中学|"
                         r"初中|高中|幼儿园|大班|中班|小班)(?:的?学生|读书|上学)?$")
# 我想反映个事 / 有个问题想咨询一下 / 在吗: an opening that says there is a matter, not which
INTRO_OPENING = re.compile(r"^(?:您好|你好|老师好|领导好|在吗|在不在|请问)?[，,\s]*(?:我|我们)?(?:想|要|需要|有)?"
                           r"(?:跟你们|向你们|和你们|给你们)?(?:反映|投诉|举报|咨询|问|说|建议|反馈)?(?:一下|下)?"
                           r"(?:一|几)?(?:个|件)?(?:事|事情|问题|情况)(?:儿)?(?:想|要)?(?:反映|咨询|问问?|说说?|请教)?(?:一下)?[啊呀吧哈~～]*$")
SCHOOL_STAFF = re.compile(r"老师|教师|班主任|校长|园长|辅导员")
PRAISED_AT_SCHOOL = re.compile(SCHOOL_STAFF.pattern + r"|学校|小学|中学|幼儿园|食堂")  # praise for a school's people
# 还有 / 另外 / 对了 / 忘了说: words that go on with what was said just before
GOES_ON = re.compile(r"^(?:还有(?:就是)?|另外|对了|补充(?:一下|一点)?|再补充(?:一下|一点)?|(?:还)?忘了说)(?:[\s,，。:：]+|(?=\S{4}))")
# 而且… / 另外她还… / 能不能快点处理 孩子都不去上学了: the matter in hand goes on -- a connective that adds to it, 还有 or
# 另外 pointing back at whom it is about, or a plea to handle it (and why). More of the message, never asked whether
# it is another matter, whatever the router makes of its words (上学 → 招生入学); one that says it is another (还有个事,
# 另外…, 对了…) is asked about as before.
_ANOTHER_MATTER = re.compile(r"(?:还有|另外|另|再)(?:一)?(?:个|件)(?:事|问题|情况)|别的事|顺便")
_ADDS_TO_IT = re.compile(r"^(?:而且|并且|况且|甚至|何况|再加上|加上|更(?:过分|气人|离谱|可气|严重)的是|最(?:过分|气人|离谱|可气|严重)的是|"
                         r"(?:还有|另外)(?:就是)?[，,\s]*(?:他|她|这个?老师|那个?老师|这位老师|该老师))")
_URGES = re.compile(r"^(?:请|麻烦|希望|求求|求|拜托)?(?:你们|您|领导)?(?:能不能|能否|可不可以|可以)?(?:帮忙)?"
                    r"(?:(?:赶紧|赶快|尽快|快点|快些|抓紧|早点|马上|快)(?:帮忙|给|帮我们)?(?:处理|解决|管|查|调查|回复|落实)|"
                    r"管管|管一管|管一下)")
_TURNS_TO_ANOTHER = re.compile(r"^(?:另外|还有|对了|此外|顺便)")


@short_texts  # pure; asked of a reply that answers no question
def goes_on_with_it(text: str) -> bool:
    if _ANOTHER_MATTER.search(text):
        return False
    if _ADDS_TO_IT.match(text):
        return True
    if not _URGES.match(text):
        return False
    return not any(_TURNS_TO_ANOTHER.match(p) for p in CLAUSES.split(text)[1:])


# 我想反映一下我们小区旁边那个培训机构 / 我要投诉学校食堂: whom or what about, not yet what happened
INTRO_SUBJECT = re.compile(r"^(?:(?:您好|你好|老师好|领导好)[，,\s]*)?(?:我|我们)?(?:想|要)?(?:跟你们|向你们|给你们)?"
                           r"(?:反映|投诉|举报|反馈)(?:一下|下)?.{0,12}?(?:培训机构|培训班|辅导班|补习班|机构|学校|幼儿园|食堂|"
                           r"老师|班主任|校长|园长|校车)(?:的事情?|的问题|的情况)?[啊呀吧哈~～]*$|"
                           # (然后)他们班主任 / 孩子的数学老师: who, in a voice's first breath -- what they did follows
                           r"^(?:他们|我们|孩子|她|他)(?:班|学校)?的?(?:[语数英]\S?老师|班主任|老师|校长|园长)$")
CLAUSES = re.compile(r"[，,。.！!；;\s]+")


@short_texts  # pure; asked of each part of a draft on most steps
def opening(text: str) -> bool:
    """我想反映个事, 有个问题想咨询一下: only that a matter will follow."""
    parts = [p for p in CLAUSES.split(normalise(text)) if p]
    return bool(parts) and all(INTRO_OPENING.match(p) for p in parts)


# The same in English: who is writing (I'm a parent at …, my son is in grade 3 at …) or that a matter will follow (I want
# to complain), with nothing yet of what happened
INTRO_EN = re.compile(
    r"(?:(?:hi|hello|hey|dear sir(?: or madam)?|good (?:morning|afternoon|evening))[,!.\s]*)?(?:"
    r"i(?:'m| am) (?:a |the )?(?:parent|mother|mum|mom|father|dad|grandmother|grandma|granny|grandfather|grandpa|"
    r"guardian|student|pupil)(?: (?:of|at|from|in) [^.!?]{0,80})?|"
    r"my (?:son|daughter|child|kid|grandson|granddaughter|children|kids) (?:is|are|studies|study|goes|go) (?:in|at|to) "
    r"[^.!?]{0,80}|"
    r"i(?:'d| would)? (?:want|like|wish|need) to (?:report|complain|make a complaint|raise|ask|give (?:some )?feedback|"
    r"make a suggestion)(?: (?:something|an issue|a problem|a question|a matter|about something))?|"
    r"i have (?:a|an|one) (?:complaint|question|problem|issue|suggestion)(?: to (?:report|make|raise|ask))?|"
    r"can i (?:report|complain|ask)(?: (?:something|a question))?)[.!?\s]*", re.IGNORECASE)


@short_texts  # pure; asked of the whole draft on most steps
def introduction(text: str) -> bool:
    if text.isascii() and len(text) <= 160 and INTRO_EN.fullmatch(normalise(text)):
        return True
    if len(text) > 40:  # (a grown draft: no need to split it first)
        return False
    # 就是那个我家孩子在…读初二: a voice finding its words first (FILLER_LINE), then the introduction
    parts = [p[m.end():] if (m := FILLER_LINE.match(p)) else p for p in CLAUSES.split(normalise(text)) if p]
    parts = [p for p in parts if p]
    if not parts:
        return False
    whole = "".join(parts)  # 我想投诉一下 孩子学校的事: one opening, typed in two pieces
    return bool(INTRO_OPENING.match(whole) or INTRO_SUBJECT.match(whole)) or all(
        INTRO_WHO.match(p) or INTRO_WHERE.match(p) or INTRO_OPENING.match(p) or INTRO_SUBJECT.match(p)
        or GREETING.fullmatch(p) for p in parts)  # 你好 我是孩子奶奶


# 匿名 / 我要匿名 / 匿名就行: a wish to stay unknown, said as the answer to the phone question
ANONYMOUS_ONLY = re.compile(r"(?:我)?(?:要|想|就|希望|还是)?匿名(?:吧|就行|就好|就可以|反映|投诉|举报)?(?:吧|哈|啊)?[。.!！~～\s]*")
# 匿名可以吗 / 学校会知道是我吗: asked before the consent question; answered, and the question on screen again.
ASKS_ANONYMITY = re.compile(r"(?:匿名|保密|实名)[^。！!]{0,6}(?:吗|么|嘛|[?？]|可以|行不行|能不能)|"
                            r"(?:能不能|可不可以|可以|能否|能)(?:匿名|保密|不实名)|"
                            r"(?:学校|老师|班主任)[^。！!]{0,4}(?:会|能)?知道[^。！!]{0,4}(?:是我|我是谁)|会不会被[^。！!]{0,6}知道|"
                            r"(?:告诉|透露给?|通知)(?:学校|老师|班主任)[^。！!]{0,2}(?:是我|我是谁)")

# "不对，其实我想问校车几点发车": the person takes back what they said and says something else. Not more of the story
# by default: asked whether it replaces the draft, is a second matter, or corrects it (the change detour).
CHANGE_LEAD = re.compile(r"^(?:(?:哦|噢|哎|啊|呃|额)[\s,，。.!！~～]*)?(?:(?:不对|不是不是|我?(?:刚才)?(?:说|写|打|搞|弄)错了|"
                         r"换个(?:问题|话题|事)|换一个问题|换一件事|问个别的)[\s,，。.!！~～…:：]*)+(?:其实)?[\s,，:：]*")
# 是400元不是300元 / 不是周三是周四: a correction -- what it is, and what it is not (found in the message)
CORRECTS = re.compile(r"(?:应该)?是(?P<new>[^，,。.\s]{1,12}?)[\s,，]*(?:而)?不是(?P<old>[^，,。.\s!！]{1,12})|"
                      r"不是(?P<old2>[^，,。.\s]{1,12}?)[\s,，]*(?:而)?(?:应该)?是(?P<new2>[^，,。.\s!！]{1,12})")
# 这个你们能管吗 / 你们管不管: whether we handle it, asked at a question (the whole reply: nothing told)
ASKS_IF_WE_HANDLE = re.compile(
    r"^(?:请问)?(?:这(?:个|事|种事|种情况)?)?(?:你们|您们)?(?:教育局|这里)?(?:到底|究竟)?(?:能不能|能|可以|会)?(?:管|处理|受理|解决)"
    r"(?:吗|么|嘛|不|得了吗)?[?？!！。.\s~～]*$|^(?:这(?:个|事|种事|种情况)?)?(?:你们|您们)?(?:教育局)?(?:到底|究竟|还)?管不管(?:这个|这事)?[啊呀呢吗]*"
    r"[?？!！。.\s~～]*$|^(?:到底|究竟)?(?:有人管吗|有没有人管)[啊呀吗]*[?？!！。.\s~～]*$|"
    r"^can you (?:help|handle|deal with)(?: (?:this|it|that))?[?.!\s]*$", re.I)
# 你们为什么要问这个？ / 问学校干嘛 / 一定要选吗: a question about the question on screen, at any step -- why it is asked
# (Step.why), and it again; never words of the story. The whole reply, naming nothing but the question's own topic
# (老师为什么要问孩子家里收入 is a story).
_WHY_TOPIC = r"(?:我|我们)?(?:这个|这些|这|那个|这么多|这么细|学校|哪所学校|是哪所学校|电话|号码|手机|身份|类型|哪一件|名字)?"
# …, and perhaps that it was said already (你们问学校干嘛 我不是说了吗): nothing told
_WHY_END = (r"(?:呢|啊|呀|吗|嘛|么|的)?[?？!！。.\s~～]*(?:[，,]?(?:我|我们)?(?:不是|都|已经|刚才|前面|上面)*(?:说|写|讲|填)(?:过|了)+"
            r"(?:吗|呀|啊|嘛|的)?[?？!！。.\s~～]*)?$")
# Who is asked: 你们 / 您 / 你, after a short remark that ends before it (哪个学校都一样啊你问这干嘛？ -- never 老师说你问…)
_WHY_YOU = r"(?:[^。！!？?]{1,12}?[啊呀吧嘛呢啦哦了，,。.!！~～\s](?=你|您))?(?:你们|您们|您|你)?"
ASKS_WHY_ASKED = re.compile(
    r"^(?:请问|那|可是|但是|不过|诶|哎)?[，,\s]*" + _WHY_YOU + r"(?:为什么|为啥|干嘛|干什么|凭什么|咋)(?:还|一定|非|又)?(?:要|得)?"
    r"(?:问|知道|选|填|留|写|回答|告诉你们?|说|问我|要)" + _WHY_TOPIC + _WHY_END + "|"
    r"^" + _WHY_YOU + r"(?:问|要|知道|选)" + _WHY_TOPIC + r"(?:干嘛|干什么|干啥|做什么|有什么用|有啥用|什么用|是为了什么|为了啥)" + _WHY_END + "|"
    r"^(?:这个?|这些)?(?:一定|必须|非得?)要?(?:回答|填|选|说|留|告诉你们?)" + _WHY_TOPIC + r"(?:吗|么|嘛)[?？!！。.\s~～]*$|"
    # 电话为什么一定要留 / 学校干嘛要填: the question's topic first
    r"^(?:我的?)?(?:电话|号码|手机号?|联系方式|学校|身份|类型|名字)(?:为什么|为啥|干嘛|凭什么)(?:还|一定|非|又)?(?:要|得)?"
    r"(?:问|知道|选|填|留|写|给|告诉|说)?(?:你们|您们|您)?" + _WHY_END)
# 我要投诉你们 / 举报你们教育局 / 投诉局里的工作人员: a complaint about the bureau itself (its offices, its staff). 你们
# counts only where no school's QR code was scanned (there it may be the school); never 你们学校 / 你们老师.
_BUREAU_NAMED = r"(?:市?教育局|局里|局机关)"
_BUREAU_TARGET = r"(?:" + _BUREAU_NAMED + r"|(?P<you>你们|您们))(?!的?(?:学校|幼儿园|老师|校长|班主任|孩子|小学|中学|食堂))"
ABOUT_BUREAU = re.compile(r"(?:投诉|举报|告)(?:一下)?" + _BUREAU_TARGET)
COMPLAINS_OF_BUREAU = re.compile(r"^(?:我|我们)?(?:要|想|必须|一定要|就要)?(?:投诉|举报|告)(?:一下)?" + _BUREAU_TARGET
                                 + r"(?:教育局)?(?:的?(?:人|工作人员))?[!！。.\s~～]*$")


WHY_TOPICS = ((re.compile(r"电话|号码|手机"), "phone"), (re.compile(r"身份"), "anonymity"),
              (re.compile(r"学校"), "school"), (re.compile(r"类型"), "kind"))


def about_bureau(text: str, d: "Draft") -> bool:
    m = ABOUT_BUREAU.search(text)
    return bool(m) and not (m.group("you") and d.school_from == "scene")


# Who we are (你们是谁？ 这是哪里 是机器人吗), asked anywhere: said briefly, and the question asked again.
WHO_ASKS = re.compile(r"^(?:请问|那|你好|您好|喂)?[，,\s]*(?:"
                      r"(?:你们?|您)(?:是|们是)(?:谁|哪里|哪儿|哪个?(?:单位|部门|机构)|什么(?:单位|部门|机构|人)?|干(?:什么|啥|嘛)的|做什么的)|"
                      r"这(?:里|儿|个)?是(?:哪里|哪儿|什么地方|什么(?:公众号|号|平台|单位)?|啥|谁)|"
                      r"(?:你们?|您|这|回复的?)?(?:是|是不是)(?:机器人|人工|真人|自动回复|ai|AI)(?:客服|回复)?)"
                      r"(?:吗|么|嘛|啊|呀|呢|的)?[?？!！。.\s~～]*$|"
                      r"^(?:hi|hello|sorry|excuse me)?[,\s]*(?:who are you|who is this|what is this(?: account| place)?|"
                      r"(?:are you|is this) (?:a )?(?:bot|robot|machine|human|real person|person))[?!.\s]*$", re.I)
# 转人工 / 我要找真人 / 你们电话多少: a person is wanted -- who handles the message, and the bureau's line if it has one
WANTS_HUMAN = re.compile(r"^(?:请|我要|我想|能不能|可以|帮我)?(?:转|找|接|要)?(?:人工|真人|工作人员|客服)(?:客服|服务|接待)?"
                         r"(?:吗|么|呢|吧)?[?？!！。.\s]*$|"
                         r"^(?:我要|我想|能不能|可以|请)?(?:和|跟|找)(?:真人|人工|工作人员|你们领导)(?:说|聊|谈|对话|说话)?|"
                         r"^(?:有没有|有)(?:人工|真人|工作人员)|^(?:你们的?)?(?:电话|热线|联系电话)(?:是)?多少|"
                         r"^(?:能|可以|能不能)?给(?:我)?(?:个|一个)?(?:电话|联系方式)")
# 算了 不反映了 / 不想投诉了: second thoughts while writing; asked, never added to the message. Fear of what the school
# might do (穿小鞋, 报复) is answered with what the consent question offers.
# (A look: only whether it is found. No optional lead before 不…了 (算了，不反映了 holds 不反映了), and no two runs of
# commas and spaces side by side: each split a long run of spaces every way, from every place in it, on the writer.)
GIVE_UP = re.compile(r"(?:不|不想|不要|不敢|先不)(?:反映|投诉|举报|提交|留言|说|问)了|当我没(?:说|问)|"
                     r"算了[，,\s]*(?:算了[，,\s]*)?(?:我|我们)?(?:还是)?(?:先|自己)(?:去)?(?:问问|问一下|找|联系|跟)(?:学校|老师|班主任)")
# 算了 / 不说了 / 当我没说吧, a whole line: words taken back -- never words of a message, whatever follows them
TAKES_BACK = re.compile(r"(?:(?:算了|还是算了|那算了|哎|唉|嗯)[，,\s。.!！~～…]*)*(?:算了|(?:先|就)?不(?:说|问)了|当我没(?:说|问)过?)"
                        r"(?:吧|哈|啊|呀)*[，,\s。.!！~～…]*")


# 就是那个 / 嗯 / 怎么说呢: a voice finding its words, nothing said yet
FILLER_LINE = re.compile(r"(?:就是说?|那个|这个|嗯|呃|额|啊|哦|唉|怎么说呢?|然后|我想想)+[，,\s。.!！~～…]*")


def _says_nothing(line: str) -> bool:
    """A line that is only a greeting (你号, 老师你好), words taken back (算了, 当我没说) or a filler (就是那个)."""
    t = normalise(line)
    return not t.strip(PUNCT) or bool(GREETING.fullmatch(t) or TAKES_BACK.fullmatch(t) or FILLER_LINE.fullmatch(t))


def words_kept(text: str) -> str:
    """The words of a message as the draft keeps them: as typed, without the lines before the matter that say
    nothing of it -- a greeting (老师你好\n…) or words taken back (算了\n…). The first line is what staff read first.
    A greeting within a sentence (老师你好，学校…) is the person's way of writing: kept."""
    lines = text.strip().split("\n")
    first = next((i for i, line in enumerate(lines) if not _says_nothing(line)), len(lines))
    return "\n".join(lines[first:]).strip()


# Each branch of GIVE_UP holds 了 or 当我没: most messages have neither, and need no search.
_GIVE_UP_HOLDS = ("了", "当我没")


def gives_up(text: str):
    """GIVE_UP.search, where a match could be (_GIVE_UP_HOLDS)."""
    return any(w in text for w in _GIVE_UP_HOLDS) and GIVE_UP.search(text)


# 还是反映吧 / 那就投诉吧 after second thoughts: carry on, nothing to add.
CARRY_ON = re.compile(r"^(?:还是|那就|那还是|我还是)(?:要|想)?(?:反映|提交|留言|说|继续)(?:一下)?吧?[，,。.!！\s]*")

# "is this anonymous?", "will the teacher know it was me?": the English of ASKS_ANONYMITY.
ASKS_ANONYMITY_EN = re.compile(r"\banonym|\bconfidential|\b(?:school|teacher)s? (?:will |would )?(?:know|find out)|"
                               r"\bknow (?:it was|it's|that it's) me\b|\bkeep my name\b", re.I)

# 我不太会打字 / 打字慢 / 眼睛不好: a remark about typing, answered with how to send voice; never the story.
# 等下 我再想想要不要投诉: undecided -- no answer to the question (its 投诉 names no kind), nothing of the story
# 等一下 我还想说 / 稍等 我还没说完 / 我还要补充: more is coming, nothing of it said yet
MORE_TO_SAY = re.compile(r"(?:(?:等一?下|等等|稍等|等会儿?)(?:哈|啊|呀)?[\s，,。.!！~～…]*)?"
                         r"(?:(?:我|我这边)?(?:还|再)(?:想|要|得|有话要?|有几句话要?|有点事要?)?(?:说|补充|讲|写|交代)(?:一下|一点|点|几句|两句)?"
                         r"|(?:我)?还没(?:说|讲|写)完|还有(?:话|几句|事情?)?(?:要说|没说)?)"
                         r"(?:的|呢|哈|啊|呀|哦)*[\s，,。.!！~～…]*")
HOLD_ON = re.compile(r"^(?:等一?下|等等|稍等|等会儿?|我?(?:再|先)?(?:想想|想一想|考虑一?下|考虑考虑)|让我(?:再|先)?想想)")
CANT_TYPE = re.compile(r"不(?:太|怎么|大)?会(?:打字|写字|用手机|拼音)|打字(?:太|很|比较)?(?:慢|难|费劲|不方便)|"
                       r"眼睛不好|看不清(?:字)?|不识字|字认不全")

# English words at a Chinese question count as words (Intake._tells); an English sentence switches the replies.
EN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
EN_KINDS = (("complaint", re.compile(r"\bcomplain(?:t|ts|ing)?\b|\breport\b", re.I)),
            ("suggestion", re.compile(r"\bsuggest(?:ion|ions)?\b|\bpropos(?:e|al)\b", re.I)),
            ("inquiry", re.compile(r"\b(?:question|enquiry|inquiry)\b", re.I)),
            ("praise", re.compile(r"\b(?:praise|compliment)\b|(?<!\bno )\b(?:thank|thanks)\b(?! for asking)", re.I)))


def english_kind(text: str) -> str | None:
    """The one kind an English reply names (I want to complain, it's a question), else None."""
    found = {kind for kind, pattern in EN_KINDS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


# The question's own words in English (it is a complaint, I want to make a …): they belong to the answer.
EN_KIND_NAMED = re.compile(r"\b(?:i|i'm|im|it|it's|its|this|that|is|am|a|an|my|want|would|like|to|make|send|file|"
                           r"just|please|ok|okay|yes|no|about|type|kind|number|one)\b", re.I)


def english_words(text: str) -> int:
    return len(EN_WORD.findall(text))


def in_english(text: str) -> bool:
    """A sentence in English (three words or more, no Chinese): the replies follow it."""
    return english_words(text) >= 3 and not han_count(text)


@short_texts  # pure; asked of every message, and again at each step
def written_lang(text: str) -> str | None:
    """The language a message shows its writer uses: "en" for two English words or more ("thank you", "my
    status"); "zh" for Chinese words that are more than a school's name; None when it does not say: a number,
    one word ("hi", "ok", "thanks": Chinese writers type them too), pinyin ("ni hao"), a school's name."""
    t = text.strip()
    han = han_count(t)
    if not han:
        words = EN_WORD.findall(t)
        return "en" if len(words) >= 2 and not all(names.is_pinyin(w) for w in words) else None
    if han < 2 or english_words(t) > han or SCHOOL_NAME.fullmatch(t.strip(PUNCT)):
        return None  # 江南区实验小学 typed by an English writer, as asked: a name, not a language
    return "zh"


@short_texts  # asked of the same reply up to six times a message
def han_count(text: str) -> int:
    return len(_NOT_HAN.sub("", text))  # the runs between dropped: a few matches, not one a character (~3x cheaper)


_NOT_HAN = re.compile("[^\u4e00-\u9fff]+")  # (a character at a time in Python cost ~4 µs a 20-character draft)


_PHONE_WORD = re.compile(r"电话|手机|号码")


@short_texts  # pure; every reply within a conversation asks it
def may_be_aside(text: str) -> bool:
    """Whether a reply in a conversation can be one of the remarks `Intake._aside` answers: the union of the
    `ASIDES` rows' looks, so a reply that passes none (most) skips every check, and no row can be missed."""
    for look in _ASIDE_LOOKS:
        if look(text):
            return True
    return False


def beside_school(text: str, named: Iterable[str] = ()) -> str:
    """What a reply says besides a school's name: the reply without the names it may mean and the words of any
    school's name -- or nothing, when all that is left is pieces of those names and hedges around them (实验小学吧
    好像是江南的, for 江南区实验小学). The one rule of whether a reply that names a school says more (then kept)."""
    names_ = [n for n in named if n]
    rest = text
    for name in names_:
        rest = rest.replace(name, "")
    rest = SCHOOL_WORDS.sub("", rest).strip(PUNCT)
    kept, i = [], 0  # each piece of two characters or more that a name holds, out
    longest = max(map(len, names_), default=0)  # no longer piece is in a name (all of them tried: quadratic, 13 s
    while i < len(rest):                        # for a long reply on the writer thread)
        j = next((j for j in range(min(len(rest), i + longest), i + 1, -1)
                  if any(rest[i:j] in n for n in names_)), None)
        kept.append(rest[i] if j is None else "")
        i = j or i + 1
    return "" if not FILLER.sub("", SCHOOL_HEDGE.sub("", "".join(kept))).strip(PUNCT) else rest


def _phone_in_text(text: str):
    return PHONE_IN_TEXT.search(phone_digits(text))


# …我电话138…, 有事打我手机138…, or at the message's end (联系电话：138…), or a number alone in its clause: the writer's own
# number. After 老师, 学校, 他 … it is someone else's (老师电话139…打不通), and a 联系电话 within a story may be anyone's
# (a notice quoted): words of the story only.
_OWN_PHONE_LEAD = re.compile(r"(?:^|(?:电话|手机|手机号|号码|联系方式|电话号码?)(?:号码?)?(?:是|为|:|：)?|打|拨|联系我|找我)$")
_NOT_OWN_PHONE = re.compile(r"老师|校长|班主任|学校|园长|机构|他|她|别人|局|热线|办公室|食堂|门卫|公司|举报")
_CLAUSE_BREAK = re.compile(r"[，,。.！!；;？?\n]")


def own_phone(text: str) -> str | None:
    """The number a message gives as its writer's (see _OWN_PHONE_LEAD), else None."""
    t = phone_digits(normalise(text))
    if not _DIGIT.search(t):
        return None
    for m in PHONE_IN_TEXT.finditer(t):
        before = _CLAUSE_BREAK.split(t[:m.start()])[-1][-12:]
        said = not before or "我" in before or "本人" in before or not t[m.end():].strip(PUNCT)
        if said and not _NOT_OWN_PHONE.search(before) and _OWN_PHONE_LEAD.search(before):
            return m.group(1)
    return None


# 我不敢说，会不会被老师知道是我发的 / 怕被报复, told with the story: answered at once, the words kept with it
FOUND_OUT = re.compile(ASKS_ANONYMITY.pattern + r"|怕[^，。！？,.!?\s]{0,8}(?:报复|知道|穿小鞋|针对|记恨|盯上|找麻烦)|"
                                                r"打击报复|穿小鞋|不敢(?:说|讲|告诉|反映)")

def _asks_anonymity(text: str):
    return ASKS_ANONYMITY.search(text) or ASKS_ANONYMITY_EN.search(text)


# -- questions and decisions about a step, said at it or before it (the table `ABOUT_STEPS`) -------------------------
# Each pattern is the whole reply (a lead, the question, its particles and punctuation): told with a story (老师打电话
# 骂我孩子, 学校把我的电话号码给了别人) it matches nothing, and the words are kept as ever.
_ABOUT_LEAD = (r"^(?:(?:你好|您好|老师好|老师|那个?|那么|请问(?:一下)?|(?:我|我想|想|可以|能|能不能)?(?:问一下|问下|问问)|还有|另外|对了|"
               r"哦|噢|嗯|诶|哎|额|呃|就是|所以|可是|但是)[，,\s]*)*")
# a clause that is only such a lead (可以问一下 为什么要问学校？): says nothing, beside the remarks after it
_ABOUT_LEAD_ONLY = re.compile(_ABOUT_LEAD + r"[\s?？!！。.~～…，,]*$")
_ABOUT_END = r"(?:吗|么|嘛|呢|不|没|啊|呀|吧|哈|哦|的)*(?:[\s?？!！。.~～…，,]|" + EMOJI + r"|\ufe0f)*$"
_PHONE_NOUN = r"(?:电话号码|电话号|电话|手机号码|手机号|手机|号码|联系方式)"
_AT_SCHOOL = r"(?:学校|老师|班主任|校长|园长|校方|学校那边|老师那边|学校的人|他们|她们|对方)"  # (他们: just named)
_GIVEN = r"(?:(?:如果|要是|假如)?我?(?:留|给|填|写)了?(?:你们)?(?:我的?)?" + _PHONE_NOUN + r"(?:的话|之后|以后)?[，,\s]*)"
_IF_GIVEN = _GIVEN + "?"
_MAY = r"(?:会不会|能不能|是不是|可不可以|会|能|可以|要)?(?:不会)?"
# 电话会给学校吗 / 学校能看到我的号码吗 / 留了电话会不会老师打给我 / 我的号码学校能看到不
PHONE_TO_SCHOOL = re.compile(
    _ABOUT_LEAD + _IF_GIVEN + r"(?:" +
    r"(?:你们|您们|您|你)?" + _MAY + r"(?:把|将)?(?:我的?)?" + _PHONE_NOUN + "?" + _MAY + r"(?:被)?(?:给|告诉|透露给?|发给|转给|交给|提供给)"
    + _AT_SCHOOL + r"(?:看)?|" +
    _MAY + _AT_SCHOOL + _MAY + r"(?:看到|看得到|看见|知道|拿到|查到|有)(?:我的?)?" + _PHONE_NOUN + "|" +
    r"(?:我的?)?" + _PHONE_NOUN + _MAY + r"(?:被)?" + _AT_SCHOOL + _MAY + r"(?:看到|看得到|看见|知道|拿到|查到)|" +
    _MAY + r"(?:有)?" + _AT_SCHOOL + _MAY + r"(?:打给我|打电话给我|给我打电话|打我电话|打过来|联系我|找我)|" +
    _GIVEN + _MAY + _AT_SCHOOL + _MAY + r"(?:看到|看得到|看见|知道)" +  # 留了电话老师会知道吗: the phone said first
    r")" + _ABOUT_END)
# 我的电话会泄露吗 / 电话安全吗 / 会不会有人打电话给我 / 谁能看到我的号码: the phone's explanation (PHONE_WHY)
PHONE_ASKED = re.compile(
    _ABOUT_LEAD + _IF_GIVEN + r"(?:" +
    r"(?:我的?)?" + _PHONE_NOUN + _MAY + r"(?:被)?(?:泄露|泄漏|外泄|公开|曝光|给别人|被别人看到|安全|保密)(?:出去)?|" +
    _MAY + r"(?:被)?(?:泄露|泄漏|外泄|公开)(?:我的?)?" + _PHONE_NOUN + "|" +
    _MAY + r"(?:有人|你们|您们|谁|工作人员|教育局)" + _MAY + r"(?:打给我|打电话给我|给我打电话|打我电话|打过来|回电话?)|" +
    r"(?:谁|哪些人)" + _MAY + r"(?:看到|看得到|看见|知道|拿到)(?:我的?)?" + _PHONE_NOUN +
    r")" + _ABOUT_END)
# 我没有手机 用的我老公的 / 用孩子爸爸的手机 / 这是我女儿的号: whose number it is, the phone step's business (any number
# that reaches them will do), never words of the message
# (every branch begins with a character, not a group: then re skips to where one of those characters is instead of
# trying every branch at every character, ~2x cheaper a search)
_FAMILY = (r"(?:老公|爱人|丈夫|先生|老婆|媳妇|妻子|孩子(?:他|她)?(?:爸爸?|妈妈?)|孩(?:他|她)(?:爸爸?|妈妈?)|他爸爸?|她爸爸?|女儿|儿子|闺女|孩子|"
           r"爸爸?|妈妈?|父亲|母亲|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|哥哥?|姐姐?|弟弟?|妹妹?|家人|家里人|亲戚|朋友|同事|邻居|别人)")
# the WeChat written from is someone's too (我没有手机，用的是我老公的微信): said as often as the phone
_ACCOUNT = r"(?:微信号?|微信账号|账号)"
_OWNER = r"(?:我们?家?的?|我家)?" + _FAMILY
_WHOSE = _OWNER + r"的?" + r"(?:" + _PHONE_NOUN + r"|" + _ACCOUNT + r"|号)?"
PHONE_NOT_MINE = re.compile(
    _ABOUT_LEAD + r"(?:我?(?:没有?|没得)(?:自己的)?(?:手机|电话)(?:号码?)?[，,。.\s]*)?(?:我|平时|到时候?|就|先|只能|一般)*(?:" +
    r"(?:这是|是)?(?:用|借)(?:的是?)?" + _WHOSE + r"(?:发的|打的)?|" +              # 用的我老公的 / 用孩子爸爸的手机
    r"(?:这|这个|那个)?(?:" + _PHONE_NOUN + r"|" + _ACCOUNT + r"|号)?(?:是|用的是?)" + _WHOSE + r"|" +  # 这是我女儿的号
    r"(?:留|填|写|给)" + _WHOSE + r"(?:可以|行|也行|也可以|没问题|成)?|" +          # 留我老公的电话可以吗
    _OWNER + r"的?(?:" + _PHONE_NOUN + r"|" + _ACCOUNT + r"|号)|" +                 # 他爸的电话行吗
    r"(?P<bare>" + _OWNER + r"的)" +                                                # 我老公的 (at its question only)
    r")(?:[，,\s]*(?:可以|行|也行|也可以|没问题|成|可不可以|行不行))?(?:吗|么|吧|啊)?"
    # a word about the owner (他白天都在 / 他在外地打工挺忙的没空), up to three short clauses: the phone's business
    # unless the router finds a matter in it (Intake._phone_not_mine: 他说老师收了补课费 is the story)
    r"(?P<owner>[，,。.\s]*(?:他|她)[^，,。.\s]{1,16}(?:[，,。.\s]+(?!我)[^，,。.\s]{1,10}){0,2})?"
    r"(?:[，,。.\s]*我?(?:没有?|没得)(?:自己的)?(?:手机|电话)(?:号码?)?)?" + _ABOUT_END)  # (我没有手机 after it too)
# my husband's / use my wife's number / it's my daughter's phone / I don't have a phone, use my husband's: the same,
# in English (my husband's alone only at the phone question: group "bare")
_FAMILY_EN = (r"(?:husband|wife|partner|son|daughter|child|kid|mother|mom|mum|father|dad|sister|brother|grandma|"
              r"grandmother|grandpa|grandfather|granny|aunt|uncle|family member|relative|friend|neighbou?r|colleague)")
_PHONE_NOUN_EN = r"(?:phone number|phone|number|mobile(?: number)?|cell(?: ?phone)?|wechat(?: account)?|account)"
_OWNER_EN = r"(?:my|our) " + _FAMILY_EN + r"(?:'s|s'|s)?"
PHONE_NOT_MINE_EN = re.compile(
    r"^(?:(?:ok|okay|well|sorry|hmm|oh)[,.\s]+)?(?:"
    r"(?P<bare>(?:it'?s |it is )?" + _OWNER_EN + r")|"
    r"(?:(?:i (?:don'?t|do not) have (?:a |my own )?(?:phone|mobile|cell ?phone)(?: of my own)?|no phone)[,.;\s]*"
    r"(?:so |but )?)?(?:"
    r"(?:you can |please |just |i'?ll |i will |can i |could i |can you )?(?:use|call|leave|give|take|try|put down)"
    r"(?: you)? (?:it'?s |it is )?" + _OWNER_EN + r"(?: " + _PHONE_NOUN_EN + r")?|"
    r"(?:it'?s |it is |this is |that'?s |that is |the number is |this number is )?" + _OWNER_EN + r" " + _PHONE_NOUN_EN +
    r"))(?: (?:is (?:ok|okay|fine)|ok|okay|please|instead|then))?(?P<owner>)[.!?\s]*$", re.I)
_QUESTION_MARK = re.compile(r"[吗么嘛?？]|会不会|能不能|是不是|可不可以|谁|哪些人|[会能][^了]*$|安全|不[^了]*$")
PHONE_TO_SCHOOL_EN = re.compile(r"^(?:and |so |but |ok,? )?(?:will|wil|would|can|could|does|do|is|are)\b[^.!?]{0,40}"
                                r"\b(?:school|teachers?|head ?teacher|principal)\b[^.!?]{0,30}"
                                r"\b(?:my (?:phone )?number|call me|phone me|contact me)\b[^.!?]{0,20}[?.!\s]*$|"
                                r"^(?:and |so |but )?(?:will|wil|would|is|does) my (?:phone )?number\b[^.!?]{0,30}"
                                r"\b(?:school|teachers?|principal)\b[^.!?]{0,20}[?.!\s]*$", re.I)
PHONE_ASKED_EN = re.compile(r"^(?:and |so |but |ok,? )?(?:is my (?:phone )?number (?:safe|private|kept private)|"
                            r"who (?:will|can|could) (?:see|get|have) my (?:phone )?number|"
                            r"(?:will|would) (?:you|anyone|someone|somebody) (?:call|phone|ring) me|"
                            r"(?:do|must) i (?:have|need) to (?:give|leave|share) (?:you )?(?:my|a) (?:phone )?number|"
                            r"why do you (?:need|want) my (?:phone )?number)\b[^.!?]{0,20}[?.!\s]*$", re.I)
# 那不留了 / 算了 不留 / 不同意: a later question's own word said early, where the question on screen has no such answer
# (elsewhere 不留 and 不同意 answer it: 不同意 at the out-of-scope question is its "no").
_BARE_LEAD = r"(?:(?:算了|那个?|那就|还是|我|嗯|好吧|哦|额|呃)[，,\s]*)*"
PHONE_DECLINE_WORD = re.compile(_BARE_LEAD + r"(?:就|还是)?(?:不想|不愿意?|不方便|不)留(?:了|吧|啦|哈)*[。.!！~\s]*")
CONSENT_REFUSED = re.compile(_BARE_LEAD + r"(?:我?不同意(?:让学校知道)?|(?:也|还是|最好|千万|一定|可)?(?:不想|不要|别|不愿意?)让?(?:学校|老师|班主任)"
                             r"知道(?:是我(?:反映|投诉|举报|说)?的?|我是谁)?)(?:了|吧|啦|哈|啊|呀)*[。.!！~\s]*|"
                             r"(?:no,? )?i (?:don'?t|do not) agree[.!\s]*", re.I)
BARE_WORD_STEPS = frozenset({"kind", "conduct", "focus", "school", "similar"})
# 别让学校知道 names who is not to know: a refusal of consent at any step before its question (bare 不同意 only where
# the question on screen has no such answer, BARE_WORD_STEPS)
NAMES_WHO_KNOWS = re.compile(r"学校|老师|班主任|校长|园长|school|teacher", re.I)
# what leads a decision said early: 那电话还是不留了吧 / 算了，号码就不留了
_DECISION_LEAD = re.compile(r"^(?:那|那就|那么|算了|嗯|好吧|哦|噢|还是|我看)[，,\s]*")
NO_PHONE_EARLY_EN = re.compile(r"^(?:ok(?:ay)?,? |then,? |in that case,? |so,? )?(?:(?:i(?:'d| would) rather not |i (?:don'?t|do "
                               r"not|won'?t) (?:want to )?)(?:give|leave|share) (?:you )?(?:my|a) (?:phone )?number|"
                               r"no (?:phone )?number|no phone)(?:,? (?:please|thanks|thank you))?[.!\s]*$", re.I)


def asks_about_phone(text: str):
    """A question or worry about the phone question, whole (see PHONE_TO_SCHOOL, PHONE_ASKED)."""
    if han_count(text) > 24:
        return None
    if PHONE_TO_SCHOOL.match(text) or PHONE_ASKED.match(text):
        return _QUESTION_MARK.search(text)  # 老师打给我 alone tells; 老师会打给我吗 asks
    return PHONE_TO_SCHOOL_EN.match(text) or PHONE_ASKED_EN.match(text)


def declines_phone_early(text: str) -> bool:
    """电话就不留了吧 / 那号码还是不留了 / 不想留手机号, before the phone is asked (bare 不留: `PHONE_DECLINE_WORD`)."""
    if han_count(text) > 16:
        return False
    return declines_phone_unasked(_DECISION_LEAD.sub("", text)) or bool(NO_PHONE_EARLY_EN.match(text))


@short_texts  # pure; asked of most replies, some of them several times
def _tells_by_length(text: str) -> tuple[bool | None, str]:
    """What `Intake._tells` can say of words without routing them: (True: a sentence; False: nothing but
    fillers, a greeting or hesitation; None: short words that routing decides), and the words as it reads them."""
    t = normalise(text).strip(PUNCT)
    if not t or GREETING.fullmatch(t) or thanks_only(t) or UNSURE.search(t) and han_count(t) < 2 * SENTENCE_CHARS:
        return False, t  # (好的，谢谢您 is five characters of courtesy: never more of the story)
    if UNSURE.search(t) and han_count(rest := UNSURE.sub("", t)) < 2 * SENTENCE_CHARS \
            and not HOW_OFTEN.search(t) and not FACTS.search(t):
        return None, rest  # 我也不知道算啥 你们看着办吧: routing decides on what is left besides the hesitation
    words = english_words(t)
    core = han_count(FILLER.sub("", t)) + words  # an English word says as much as a character
    if core >= SENTENCE_CHARS or words >= SENTENCE_WORDS:
        return True, t
    if HOW_OFTEN.search(t) and core >= 2 or FACTS.search(t) or JUDGED.search(t) and (QUESTION.search(t) or ASKED.search(t)):
        return True, t  # (这合理吗？: a question about the matter, kept with it)
    if core < 2:
        return False, t
    return None, t


class Routing(dict):
    """A routing decision as a draft keeps it (Router.route's to_dict, with the defaults the intake relies on).
    Read-only, so its JSON can be written once per decision (`json_text`) and reused on every step that stores
    the draft: the explanation's words and weights were most of the cost of storing a draft."""

    __slots__ = ("_json", "_matters")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._json: str | None = None
        self._matters: tuple[str, ...] | None = None  # Draft.matters, read once per decision

    @property
    def json_text(self) -> str:
        if self._json is None:
            self._json = _encode(self)
        return self._json

    def __reduce__(self):  # copy, deepcopy and pickle build a new one rather than filling it in
        return Routing, (dict(self),)

    def _read_only(self, *args, **kwargs):
        raise TypeError("a routing decision is read-only: make a new dict ({**routing, ...})")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = __ior__ = _read_only  # type: ignore


@dataclass
class Draft:
    """What a person has told us so far. Stored as JSON between messages; unknown or missing keys (an older
    version's draft after an upgrade) take their defaults."""

    openid: str
    parts: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    kind: str | None = None
    kind_from: str | None = None        # "asked": the person chose it; "urgent": danger, filed as a call for help;
    #                                     "asking": the question asked, not yet answered;
    #                                     "named" (我要投诉) or "words" (欺负, 不管):
    #                                     read again from the text each time it grows; a guess from words is shown
    #                                     as one in the summary, with how to correct it
    kind_seen: bool = False             # the summary showed the kind: a remark added there no longer re-reads it
    kind_read: int = 0                  # the parts the kind was read from: words added after them change a kind
    #                                     named or guessed only by saying another (kind_said)
    school: str | None = None
    # scene (the person's last QR code, however old), scanned (a QR code scanned while writing), text, asked, or
    # none (the person said no school)
    school_from: str | None = None
    school_options: list[str] = field(default_factory=list)  # numbered suggestions for a name typed loosely
    category: str | None = None
    routing: dict[str, Any] = field(default_factory=dict)
    focus: str | None = None            # the matter that comes first, when one message holds two
    insist: bool = False                # out of scope, but the person wants it submitted anyway
    similar: str | None = None
    similar_checked: bool = False
    phone: str | None = None            # None: not asked yet; "": the person chose not to give one
    declined_urgent: bool = False       # "" was chosen for a matter known urgent: it holds (else an urgent matter
    #                                     asks once more, saying why)
    phone_kept: bool = False            # the phone came from an earlier message of this sitting: said where its
    #                                     question would come (Intake._sitting_phone), never assumed silently
    taken_back: bool = False            # the last reply took the words back (当我没说 / 算了 不说了): what is told next
    #                                     may be instead of them -- asked (the change detour), never saved for later
    phone_read: bool = False            # the phone was read from the message's own words (…我电话138…): confirmed
    #                                     where its question would come, as it is (never "沿用您刚才留的")
    anonymous: bool | None = None       # True: the school must not know who wrote
    anonymous_default: bool = False     # `anonymous` was set for want of a school, not said: a school named later
    #                                     asks it (a decision said is kept)
    held: str | None = None             # a message waiting on a detour's answer (new matter? a rating?)
    waiting: list[str] = field(default_factory=list)  # words typed while the rating detour waits: replayed after
    back_to: str | None = None          # the state a detour returns to
    shelved: dict[str, Any] | None = None  # an earlier draft set aside, taken up again when this one is done
    shelved_kept: bool = False          # it was kept from an earlier visit (not set aside minutes ago): asked whether
    #                                     to go on with it, not just continued
    lang: str | None = None             # "zh" or "en": the language of the first words, for the replies
    answered: str | None = None         # the ticket the office just answered: a short question may be for it
    alerted: bool = False               # the hotlines for an urgent matter were given at once
    praise_only: str | None = None      # the text the person called praise only, though it names a teacher's
    #                                     conduct: it goes to the bureau, never the school (privacy.ACCUSES)
    about_bureau: bool = False          # a complaint about the bureau itself (投诉你们教育局): privacy.ABOUT_BUREAU
    not_rating: str | None = None       # the ticket whose rating the person said this message is not: not asked again
    phone_piece: str = ""               # the first digits of a phone sent in pieces (138, then 1234 5678)
    matter_asked: int = 0               # times the matter was asked for: asked again, the question changes

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Draft":
        names = _draft_fields()
        if tuple(data) == _draft_order():  # as this version stores it: every field, in order -- what __init__
            draft = object.__new__(cls)    # would make of it, without its keyword arguments and defaults
            draft.__dict__ = data.copy()
            return draft
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        # Shallow: the dict is serialised at once. dataclasses.asdict deep-copied the routing explanation on every
        # message (8% of the webhook's writer time in a profile). The instance's own dict holds exactly the fields,
        # in their order (__init__ sets them so), unless someone added an attribute: then field by field.
        own, names = self.__dict__, _draft_fields()
        if len(own) == len(names):
            return own.copy()
        return {name: getattr(self, name) for name in names}

    @property
    def text(self) -> str:
        return "\n".join(self.parts)

    @property
    def matters(self) -> list[str]:
        """The categories of the matters in the text, primary first (from the router's `matters`)."""
        routing = self.routing
        if type(routing) is not Routing:
            return list(_matters(routing))
        if routing._matters is None:  # (read-only: asked a few times a message, and on every step after)
            routing._matters = _matters(routing)
        return list(routing._matters)


def _matters(routing: dict) -> tuple[str, ...]:
    found = [m.get("category") for m in routing.get("matters") or [] if m.get("category")]
    out: list[str] = []
    for c in found:
        if c not in out:
            out.append(c)
    # "非教育事务" is no matter to put first beside an education one (1 非教育事务 2 课业负担…, read as odd)
    return tuple(c for c in out if c != "out_of_scope") if len(out) > 1 else tuple(out)


@functools.lru_cache(maxsize=1)
def _draft_fields() -> dict[str, None]:
    """Draft's field names, in order (dataclasses.fields walks the class on every call)."""
    return dict.fromkeys(f.name for f in dataclasses.fields(Draft))


@functools.lru_cache(maxsize=1)
def _draft_order() -> tuple[str, ...]:
    return tuple(_draft_fields())


@dataclass
class Plan:
    """What routing and assignment decided for the collected text, ready to show and to store."""

    category: str
    unit_code: str | None
    unit_name: str
    school_code: str | None
    school_name: str | None
    routing: dict[str, Any]
    due_at: float | None
    due_text: str
    days: int
    urgent: bool = False
    due_text_en: str = "—"  # the deadline as an English writer reads it (Tue 8 Dec)

    def due(self, lang: str | None) -> str:
        return self.due_text_en if lang == "en" else self.due_text


@dataclass(frozen=True)
class Step:
    """One question of the conversation: its state name, whether it still needs asking, the full question,
    the reminder of it after an attachment or a detour (the question itself, shortened only where it is long:
    the summary's choices; "请回复 1 或 2" alone says nothing), how an answer is taken, and how many numbered
    options it offers (a bare digit that is also a valid answer here is ambiguous when a rating is pending)."""

    state: str
    needed: Callable[["Intake", Draft], bool]
    ask: Callable[["Intake", Draft], str]
    again: Callable[["Intake", Draft], str]
    answer: Callable[["Intake", str, Draft, Inbound], tuple]
    options: Callable[[Draft], int] = lambda d: 0
    # What the step can read as its answer: the rest of the text once the answer and the question's own words
    # are taken out ("" for a bare answer), or None when the text holds no answer to this question.
    read: Callable[["Intake", str, Draft], str | None] | None = None  # None: one of the numbered options
    why: str = ""  # the text (handlers/texts.py) saying why the question is asked (为什么要问这个？)
    # whether a yes (好的, 可以) answers it: 好的，谢谢您 is then the step's answer, elsewhere thanks beside the question
    yes: Callable[[Draft], bool] = lambda d: False
    # the question again, in a line, right after a remark about it was answered at it (用家人的号码也可以 / 电话会给学校吗):
    # it was on screen a moment ago, and the answer just said the rest ("": the question again, whole)
    short: str = ""


NEW_MATTER_CONFIDENCE = 0.6  # a supplement routed elsewhere at least this surely is offered as a new matter


class Intake:
    """One step of the conversation at a time. `services` gives it routing, directory and storage calls,
    so this module holds only the conversation's rules."""

    def __init__(self, services: "IntakeServices"):
        self.s = services

    # -- entry ------------------------------------------------------------------------------------------
    def start(self, inbound: Inbound, scene_school: str | None,
              kind: str | None = None) -> tuple[str | None, dict, list[Reply]]:
        """`kind` when already known (issue 13: a question an instant answer did not settle is an inquiry)."""
        self.s.openid = inbound.openid
        inbound = storable(inbound)
        d = Draft(openid=inbound.openid, school=scene_school, school_from="scene" if scene_school else None,
                  kind=kind, kind_from="asked" if kind else None)
        state, data, replies = self._start(d, inbound)
        lang = data.get("lang") or self.s.lang()
        welcome = self.s.welcome(lang)
        if welcome is None and lang == "en" and getattr(self.s, "english_welcome", False):
            welcome = texts.EN["WELCOME"]  # welcomed before in Chinese (a QR code), writing English for the first time
        if data.get("alerted"):  # danger: the hotlines lead the first reply, not three lines of welcome
            welcome = None
        greeting, who = texts.pick("GREETING_BACK", lang), self.s.who_we_are(lang)
        here = texts.pick("GREETING_IN_DRAFT", lang) + "\n"
        if welcome and replies and replies[0].text.startswith(greeting):  # the welcome greets already:
            rest = replies[0].text[len(greeting):]                       # only what to send follows
            replies[0] = Reply(welcome + "\n\n" + texts.pick("GREETING_NEXT", lang) + rest)
        elif welcome and replies and replies[0].text.startswith(here):  # 喂 first: the welcome, then what to say
            replies[0] = Reply(welcome + "\n\n" + replies[0].text[len(here):])
        elif welcome and replies and replies[0].text.startswith(who):  # 你们是谁 first: the welcome says who we
            rest = replies[0].text[len(who):]                         # are; only that people answer is added
            replies[0] = Reply(welcome + "\n\n" + texts.pick("WHO_HANDLES", lang) + rest)
        elif welcome and replies and replies[0].to is None:  # one message: the welcome, then the answer
            replies[0] = Reply(welcome + "\n\n" + replies[0].text)
        elif welcome:
            replies.insert(0, Reply(welcome))
        return state, data, replies

    def _start(self, d: Draft, inbound: Inbound) -> tuple[str | None, dict, list[Reply]]:
        kept = self._kept()
        # routed as _refresh routes the draft's words (one routing, remembered)
        urgent = inbound.kind == "text" and bool(self.s.route(inbound.text.strip()).get("urgent"))
        if urgent:  # a call for help first (the hotlines now): an earlier message is offered back after it, and
            d.shelved, d.shelved_kept = kept, bool(kept)  # "3孩子被打出血了" is not asked about as a rating
            return self._begin(d, inbound)
        if kept:  # an earlier message never submitted: offer it back before anything else
            d.shelved = kept
            d.held = inbound.text if inbound.kind == "text" else None
            if inbound.kind != "text":
                self._collect(inbound, d)
            return self._out("resume", d, [Reply(self._ask_resume(d))])
        rating = self.s.rating(inbound.text) if inbound.kind == "text" else None
        if rating is not None:  # "3还没退钱" with a resolved ticket waiting: a rating or a new message?
            d.held, d.back_to = inbound.text, None
            return self._out("rating", d, [Reply(self._ask_rating(d))])
        text = normalise(inbound.text) if inbound.kind == "text" else ""
        short = FOLLOW_UP_CHARS_EN if text.isascii() else FOLLOW_UP_CHARS
        # the words first, the person's tickets (a read) last: 你好 and 谢谢 start most conversations
        answered = self.s.answered() if text and len(text) <= short and not GREETING.fullmatch(text) \
            and not thanks_only(text) and not encourages(text) and not BARE_KIND.match(text) and ascii_int(text.rstrip("。.、"), 3) is None \
            else None
        if answered is None and text and len(text) <= short and DISPLEASED.match(text):
            # 不满意！！钱根本没退, with a message in hand and no result to rate yet: about it, never sent to 12345
            answered = next(iter(self.s.open_numbers()), None)
        if answered:  # 那钱什么时候退, just after the office answered
            d.held, d.answered = inbound.text, answered   # asked: to the officer, or a new message?
            return self._out("officer", d, [Reply(self._ask_officer(d))])
        return self._begin(d, inbound)

    def _ask_officer(self, d: Draft) -> str:
        return texts.pick("ASK_TO_OFFICER", d.lang or self.s.lang()).format(number=d.answered)

    def _on_officer(self, text: str, d: Draft, inbound: Inbound):
        n = one_or_two(text)
        if n is None:
            return self._out("officer", d, [Reply(texts.pick("CHOOSE_1_2", d.lang or self.s.lang()) + "\n"
                                                  + self._ask_officer(d))])
        held, number = d.held or "", d.answered
        d.held, d.answered = None, None
        if n == 1:
            return None, d.to_dict(), self.s.reply_to(number, held)
        return self._begin(d, dataclasses.replace(inbound, text=held, kind="text"))

    def _kept(self) -> dict | None:
        """An expired draft worth offering back: its words (or, if it was itself waiting on a detour, the
        draft it had set aside)."""
        data = self.s.kept()
        while data:
            old = Draft.from_dict(data)
            if old.parts or old.attachments:
                return old.to_dict()
            data = old.shelved
        return None

    def _begin(self, d: Draft, inbound: Inbound):
        text = normalise(inbound.text) if inbound.kind == "text" else ""
        lang = self.s.lang()
        both = lang is None and not han_count(text)  # "hi" from someone unknown: either language may be theirs
        if text and GREETING.fullmatch(text):  # 你好 / 在吗: greeted back with what to send; nothing started
            if CALLS.search(text):  # 喂喂 / 在吗 / 怎么没人回: here, and what happened? (or where theirs is)
                then = self.s.status_text() if CALLS_IMPATIENT.search(text) and self.s.open_numbers() else \
                    texts.pick("CALLED_NEXT", lang)
                return None, d.to_dict(), [Reply(texts.pick("GREETING_IN_DRAFT", lang) + "\n" + then + (
                    "\n" + texts.EN["GREETING_IN_DRAFT"] + "\n" + texts.EN["CALLED_NEXT"] if both else ""))]
            return None, d.to_dict(), [Reply(texts.pick("GREETING_BACK", lang)
                                             + ("\n" + texts.EN["GREETING_BACK"] if both else ""))]
        if text and ASKS_IF_WE_HANDLE.match(text):  # 你们到底管不管！！ before anything: yes, and what to send (it was
            # the 12345 question, or the first line of a message that said nothing else); nothing started
            # (from someone with a message in hand, most likely impatience about it: where it is)
            then = self.s.status_text() if self.s.open_numbers() else texts.pick("GREETING_NEXT", lang)
            return None, d.to_dict(), [Reply(texts.pick("WE_HANDLE_IT", lang) + "\n" + then)]
        if text and MORE_TO_SAY.fullmatch(text) and not d.parts:  # 等一下 我还想说, nothing begun: listened for
            return None, d.to_dict(), [Reply(texts.pick("MORE_PLEASE", lang))]
        if text and TAKES_BACK.fullmatch(text) and not d.parts:  # 不说了 / 当我没说, nothing begun: nothing to keep
            return None, d.to_dict(), [Reply(texts.pick("TAKEN_BACK", lang))]
        if text and WHO_ASKS.match(text):  # 你们是谁？ before anything: who we are and what to send; nothing started
            return None, d.to_dict(), [Reply(self.s.who_we_are(lang) + "\n" + texts.pick("GREETING_NEXT", lang))]
        about = self._about_steps(None, text, dataclasses.replace(d, lang=lang or (
            "en" if in_english(text) else None))) if text and _about_a_step(text) else None
        if about:  # 电话会给学校吗 before anything: answered, and what to send; nothing started (never the story)
            return None, d.to_dict(), [Reply(about + "\n" + texts.pick("GREETING_NEXT", lang))]
        if text and self._wants_person(text):  # 转人工: who handles it; nothing started
            return None, d.to_dict(), [Reply(self.s.reach_person(lang))]
        if thanks_only(text):  # 谢谢你们 辛苦了: answered; no message about nothing is started
            return None, d.to_dict(), [Reply(texts.pick("THANKS_BACK", lang)
                                             + ("\n" + texts.EN["THANKS_BACK"] if both else ""))]
        if ACK_ONLY.fullmatch(text):  # 是的 / 对 after all is done (a yes to nothing on screen): nothing started
            return None, d.to_dict(), [Reply(texts.pick("ACK_BACK", lang) + ("\n" + texts.EN["ACK_BACK"] if both else ""))]
        if encourages(text):  # 挺好的，继续加油！: thanked; nothing started
            return None, d.to_dict(), [Reply(texts.pick("CHEERED_BACK", lang)
                                             + ("\n" + texts.EN["CHEERED_BACK"] if both else ""))]
        if text and inbound.kind == "text" and not _WORDY.search(re.sub(WECHAT_EMOJI, "", text)):  # 👍👍 / [捂脸]
            return None, d.to_dict(), [Reply(texts.SYMBOLS_ONLY)]
        if ascii_int(text.rstrip("。.、"), 3) is not None:  # 2, after the message was submitted: a menu gone by
            return None, d.to_dict(), [Reply(texts.pick("NUMBER_ALONE", lang))]
        filed = self.s.just_filed() if len(text) >= SENTENCE_CHARS else None
        if filed and text in {normalise(line) for line in filed["text"].split("\n")}:
            # sent again just after submitting (unsure it arrived): said to be filed, never a second message
            return None, d.to_dict(), [Reply(texts.pick("REPEATED_FILED", lang).format(number=filed["number"]))]
        if asks_progress(text) and self.s.open_numbers():  # 那什么时候能有结果: about the message in hand
            lead = texts.pick("NOTHING_MORE_NEEDED", lang) + "\n" if ASKS_NEXT.match(text) or ASKS_NEXT_EN.match(
                text) else ""
            return None, d.to_dict(), [Reply(lead + self.s.status_text())]
        wanted = kind_correction(text)
        filed = self.s.just_filed() if wanted else None
        if filed:  # 改为建议 right after submitting: about that message (changed while unsigned); nothing started
            return None, d.to_dict(), self.s.change_kind(filed["number"], wanted)
        if COMPLAINS_OF_BUREAU.match(text) and about_bureau(text, d):  # 我要投诉你们: what happened, and where it
            d.kind, d.kind_from, d.about_bureau = "complaint", "asked", True    # goes (never urged or routed on
            who = self.s.plan("other_edu", None, "complaint", {privacy.ABOUT_BUREAU: True}).unit_name
            return self._out("describe", d, [Reply(_t(d, "ABOUT_BUREAU_ASK").format(who=who))])  # these 3 words)
        kind = BARE_KIND.match(text)
        if kind and not d.parts:  # 投诉 before the story: the kind, taken; then the story is asked for
            d.kind, d.kind_from = dict(KIND_NAMES_ALL)[kind.group(1)], "asked"
            return self._out("describe", d, [Reply(_t(d, "KIND_TAKEN").format(kind=_kind_name(d)) + "\n"
                                                   + _t(d, "ASK_MORE"))])
        if inbound.kind == "text" and self._take_school(normalise(inbound.text), d, inbound.text.strip()):
            d.lang = d.lang or lang  # "Heping Junior High" from an English writer: answered in English
            name = self.s.school_names([d.school])[0]
            return self._out("describe", d, [Reply(_t(d, "SCHOOL_TAKEN").format(school=name) + "\n"
                                                   + _t(d, "ASK_WHAT_HAPPENED"))])  # (not the school again)
        self._collect(inbound, d)
        if GOES_ON.match(text) and self.s.just_filed():  # 还有… just after submitting: most likely more of it
            self._refresh(d)
            filed = None if d.routing.get("urgent") or d.kind == "praise" else self.s.goes_on(d)
            if filed:
                d.similar, d.similar_checked = filed["number"], True
                d.school_options = [filed["school"]] if filed["school"] and d.school is None else []
                return self._out("similar", d, [Reply(_t(d, "GOES_ON_ASK").format(number=filed["number"]) + "\n"
                                                      + _t(d, "SIMILAR_CHOICES").format(number=filed["number"]))])
        return self._advance(d, [], self._fear_heard(inbound.text, d))

    def _fear_heard(self, text: str, d: Draft) -> str:
        """Whether the school will learn who wrote, asked or feared in the story's words: answered when heard (the
        consent question comes later), never left for the person to wonder."""
        if d.kind != "praise" and d.anonymous is None and FOUND_OUT.search(normalise(text or "")) \
                and not any(FOUND_OUT.search(normalise(p)) for p in d.parts[:-1]):  # (said once)
            return _t(d, "ANONYMITY_LATER")
        return ""

    def _take_school(self, text: str, d: Draft, typed: str | None = None) -> bool:
        """A reply that is only the name of a school in the directory (江南区实验小学, 是江南区实验小学的) is the
        school, at whatever question it is typed: taken as such, never added to the message."""
        said = typed or text  # 孙子在江北区文昌小学读二年级: kept whole below (as typed), if it tells more than the name
        if text and not han_count(text) and _LATIN_LETTER.search(text):
            # "Wenchang Primary School", "it's No. 1 Middle School": a name in pinyin or English, when the
            # directory reads it as one school for sure and nothing else is said
            if set(names.latin_rest(text)) - LATIN_COURTESY:
                return False
            code = self.s.find_school(text)
            if code is None:
                return False
        else:
            if not text or not SCHOOL_CHARS.search(text):
                return False  # every school's name has one of these (实验小学, 一中, 中心校, 幼儿园): skip the lookup
            text = SCHOOL_CORRECTED.sub("", text)  # 不对不对 不是育英 是实验小学: the school it is
            text = SCHOOL_LEAD.sub("", text).strip(PUNCT) or text  # 是滨河小学 / 在育英小学: the name
            code = self.s.find_school(text, loose=False)  # (a fuzzy guess is no name in the text: not taken below)
            if code is None:
                return False
            name = self.s.school_names([code])[0]
            if name not in text and not (SCHOOL_NAME.search(text) and not beside_school(text, [name])):
                return False  # a guess from a few characters, or the name inside a story: not this (江北那边 文昌小学吧
                #               is: pieces of the name, its place and hedges, nothing else)
            if self._tells(beside_school(text, [name])):
                return False  # more than the name: the story (the router reads the school from it)
        if d.school is None and d.anonymous_default:
            d.anonymous, d.anonymous_default = None, False  # no school was there to be told: now there is, so ask
        # 不对 不是实验小学 是育英小学: the message names the school it corrects; its words say which holds, for staff
        corrects = d.school not in (None, code) and d.school_from == "text"
        d.school, d.school_from, d.school_options = code, "asked", []
        d.similar_checked = False
        if FACTS.search(text) or corrects:  # 我孩子在江南区实验小学读五年级: the grade is for the staff to read too
            d.parts.append(said)
        return True

    # -- one message within the conversation --------------------------------------------------------------
    def step(self, state: str, data: dict, inbound: Inbound) -> tuple[str | None, dict, list[Reply]]:
        self.s.openid = inbound.openid
        inbound = storable(inbound)
        d = Draft.from_dict(data)
        taken_back, d.taken_back = d.taken_back, False  # (for the next message only)
        if inbound.kind in ("image", "voice", "video", "location", "link") and not (
                inbound.kind == "voice" and inbound.text):
            self._collect(inbound, d)
            names = texts.MEDIA_NAMES_EN if d.lang == "en" else texts.MEDIA_NAMES
            return self._out(state, d, [Reply(_t(d, "ATTACHED").format(what=names[inbound.kind])
                                              + "\n" + self._again(state, d))])
        text = normalise(inbound.text)
        if taken_back and (TAKES_BACK.fullmatch(text) or gives_up(text) and not FEAR.search(text)):
            return self.cancel(d.to_dict())  # asked whether to drop it (GIVE_UP_ASK), they say so again: dropped
        if may_be_aside(text):  # most replies are none of the asides: one remembered look instead of a dozen
            aside = self._aside(state, text, d)
            if aside is not None:
                return aside
        if len(text) >= SENTENCE_CHARS and any(normalise(p) == text for p in d.parts):
            # the same words again (sent twice, unsure it arrived): said to be here, never written down twice
            return self._out(state, d, [Reply(_t(d, "REPEATED") + "\n" + self._again(state, d))])
        said = written_lang(text) if d.lang else None
        if said in ("en", "zh"):  # writes the other language now: answered in it (a name or 查询: not)
            english = in_english(text)
            if english or said == "zh" and han_count(text) >= 4:
                d.lang = "en" if english else "zh"
        if state in DETOURS:
            detour = DETOURS[state]
            text = self._by_label(detour, text, d)
            if not self._is_answer(detour, text, d):  # more words while we wait for 1 or 2: they wait too
                if state == "rating":  # not part of the rating: handled as sent once it is settled
                    d.waiting.append(inbound.text.strip())
                else:                  # part of the message held there
                    d.held = "\n".join(w for w in (d.held, inbound.text.strip()) if w)
                return self._out(state, d, [Reply(_t(d, "HELD_TOO") + "\n" + detour.again(self, d))])
            waiting, d.waiting = d.waiting, []
            return self._replay(detour.answer(self, text, d, inbound), waiting, inbound)
        rated = self._maybe_rating(state, text, d, inbound)
        if rated is not None:
            return rated
        return self._answer(state, text, d, inbound, taken_back)

    def _aside(self, state: str, text: str, d: Draft):
        """A remark beside the question on screen (在吗, 谢谢, 匿名可以吗, a phone number before it is asked …):
        answered, and the question asked again; None when the reply is none of them. The remarks are the rows
        of `ASIDES`, tried in order."""
        for aside in ASIDES:
            if aside.look(text):
                said = aside.answer(self, state, text, d)
                if said is not None:
                    return said
        return None

    def _aside_said(self, state: str, d: Draft, say: str):
        return self._out(state, d, [Reply(say + "\n" + self._again(state, d))])

    def _on_greeting(self, state: str, text: str, d: Draft):  # 在吗 in the middle: still here, and the question
        return self._aside_said(state, d, _t(d, "GREETING_IN_DRAFT"))

    def _on_who_asks(self, state: str, text: str, d: Draft):  # 你们是谁？ at 1–4: who we are, never the story
        return self._aside_said(state, d, self.s.who_we_are(d.lang))

    def _why_asked(self, state: str | None, text: str, d: Draft) -> str | None:
        """为什么要问这个？: why the question on screen is asked; 干嘛要电话 at the school's question: why the phone is
        (it comes later). Before any message, only a question that names its step is answered."""
        named = next((s for words, s in WHY_TOPICS if words.search(text)), None)
        step = STEP.get(named or state or "") or DETOURS.get(state or "")
        if step is None or not step.why:
            return None
        return _t(d, step.why)

    def _on_we_handle(self, state: str, text: str, d: Draft):  # 你们到底管不管: yes, and the question on screen
        # (at the school question, why it asks says so: 你们管不管 without a question mark was added to the story)
        return self._aside_said(state, d, _t(d, "SCHOOL_WHY" if state == "school" else "WE_HANDLE_IT"))

    def _on_wants_human(self, state: str, text: str, d: Draft):
        # at the phone question only without a phone's words (能给个电话吗 may be about theirs): 我要找你们领导
        if (state != "phone" or not _PHONE_WORD.search(text) and not _DIGIT.search(text)) and self._wants_person(text):
            return self._aside_said(state, d, self.s.reach_person(d.lang))
        return None

    def _on_thanks(self, state: str, text: str, d: Draft):
        # 谢谢你们 辛苦了 before the message is submitted: not part of it, and it is not sent yet. A courtesy that
        # reads as a yes (好的，谢谢您) is the step's answer only where a yes answers the question on screen; a bare
        # 好的 thanks no one: the step asks again in its own words.
        step = STEP.get(state) or DETOURS[state]
        if not choice(text, 9) and not (yes_no(text) and (step.yes(d) or not THANKED.search(text))):
            if state == "describe" and not d.parts and not d.attachments and not d.shelved:
                # nothing told yet (a school's name after an instant answer, then 谢谢): nothing to keep writing
                return None, d.to_dict(), [Reply(_t(d, "THANKS_BACK"))]
            return self._aside_said(state, d, _t(d, "THANKS_IN_DRAFT"))
        return None

    def _on_emoji(self, state: str, text: str, d: Draft):  # 🙏🙏 at 1–4: the whole question, not its short form
        return self._out(state, d, [Reply(self._again(state, d))])

    def _on_about_step(self, state: str, text: str, d: Draft):
        """A question or worry about a step, or its answer said early (the rows of `ABOUT_STEPS`): answered from
        that step's explanation, or the decision kept, and the question on screen asked again."""
        decided = (d.phone, d.anonymous)
        said = self._about_steps(state, text, d)
        if said is None:
            return None
        if state == "confirm" and (d.phone, d.anonymous) != decided:  # 不同意 at the summary: it again, as it now reads
            return self._advance(d, [Reply(said)])
        return self._said_at(state, d, said)

    def _said_at(self, state: str, d: Draft, said: str):
        """An answer about the questions, then the question on screen: in its short form where it has one."""
        step = STEP.get(state)
        if step is not None and step.short and step.needed(self, d):
            return self._out(state, d, [Reply(said + "\n" + _t(d, step.short))])
        return self._aside_said(state, d, said)

    def _about_steps(self, state: str | None, text: str, d: Draft) -> str | None:
        """The reply clause by clause when each is such a remark or says nothing (电话给学校吗？匿名可以吗？ / 不留电话了，
        也不想让学校知道), else whole; None when it is none."""
        clauses = ASIDE_CLAUSE.findall(text) if len(text) <= 60 else []
        if len(clauses) > 1 and not any(row.whole and row.look(text) for row in ABOUT_STEPS):
            trial = dataclasses.replace(d)  # (a decision in one clause is kept only if every clause is a remark)
            said = [None if _phone_in_text(c) else  # (用的我老公的 139…: the number is an answer, never passed over)
                    self._about_step(state, c, trial) if c.strip(PUNCT) and _tells_by_length(c)[0] is not False
                    and not _ABOUT_LEAD_ONLY.match(c)
                    else "" for c in clauses]
            if None not in said and any(said):
                d.phone, d.declined_urgent = trial.phone, trial.declined_urgent
                d.anonymous, d.anonymous_default = trial.anonymous, trial.anonymous_default
                kept: list[str] = []
                for a in said:  # one answer that says what another already did (稍后会问…) is said once
                    if a and not any(a.split("；")[0] in k for k in kept):
                        kept = [k for k in kept if k.split("；")[0] not in a] + [a]
                lead = _t(d, "OK_LEAD")  # 好的，… once, not on every line
                return "\n".join([kept[0], *(k.removeprefix(lead) for k in kept[1:])])
        return self._about_step(state, text, d)

    def _about_step(self, state: str | None, text: str, d: Draft) -> str | None:
        """What the first row of `ABOUT_STEPS` that answers says (state None: no message begun, questions only)."""
        for row in ABOUT_STEPS:
            if state is None and row.decides:
                continue
            if row.look(text) and (state is None or not row.early or state in DETOURS
                                   or STEP_ORDER[state] < STEP_ORDER[row.step]):
                said = row.answer(self, state, text, d)
                if said is not None:
                    return said
        return None

    def _about_phone(self, state: str, text: str, d: Draft) -> str | None:
        """电话会给学校吗 / 电话安全吗: who sees the number; whether the school does is the consent question's."""
        if d.kind == "praise":  # no phone is asked of praise
            return None
        if not (PHONE_TO_SCHOOL.match(text) or PHONE_TO_SCHOOL_EN.match(text)):
            return _t(d, STEP["phone"].why)  # (whole: at its question the short form follows, Step.short)
        school = _t(d, "PHONE_SCHOOL_HIDDEN" if d.anonymous else "PHONE_SCHOOL_SHOWN" if d.anonymous is False
                    else "PHONE_SCHOOL_NOW" if state == "anonymity" else "PHONE_SCHOOL_LATER")
        if state == "phone":  # (its question, on screen a moment ago, said who sees the number)
            return school
        return _t(d, "PHONE_SEEN") + (" " if d.lang == "en" else "") + school

    def _phone_not_mine(self, state: str, text: str, d: Draft) -> str | None:
        """用的我老公的 / 这是我女儿的号 / 用的是我老公的微信: any number that reaches them will do (nothing of it added to
        the message); a word about the owner is the phone's business too, unless it tells a matter."""
        said = self._whose_phone(text)
        if said is None or d.kind == "praise" or said.group("bare") and state != "phone":
            return None  # (孩子爸爸的吧 names no phone: the phone's only where its question is on screen)
        return _t(d, "PHONE_ANY_ACCOUNT" if re.search(_ACCOUNT + "|wechat|account", said.group(0), re.I)
                  else "PHONE_ANY_NUMBER")

    def _whose_phone(self, text: str) -> re.Match | None:
        """PHONE_NOT_MINE's reading of a reply, when what it says of the owner (他在外地打工挺忙的没空) names no matter
        for the router (他说老师收了补课费 is the story)."""
        said = PHONE_NOT_MINE.match(text) or PHONE_NOT_MINE_EN.match(text)
        return None if said is None or said.group("owner") and self._names_matter(said.group("owner")) else said

    def _phone_declined_early(self, state: str, text: str, d: Draft) -> str | None:
        """电话就不留了吧, or 那不留了 where the question on screen has no such answer: the phone question's answer,
        kept (never asked again, never part of the story)."""
        if d.phone is not None or d.kind == "praise":
            return None
        if not declines_phone_early(text) and state not in BARE_WORD_STEPS:
            return None
        self._decline_phone(d)
        return _t(d, "PHONE_SKIPPED")

    def _about_consent(self, state: str, text: str, d: Draft) -> str | None:
        """匿名可以吗 / 学校会知道是我吗, before the consent question: it is coming (at it, the step explains)."""
        if state == "anonymity" or d.kind == "praise" or not (
                ASKS_ANONYMITY.search(text) and han_count(text) <= 14 or
                ASKS_ANONYMITY_EN.search(text) and english_words(text) <= 12):
            return None
        if d.anonymous is None and self._consent_coming(state, d):
            return _t(d, "ANONYMITY_LATER")
        return _t(d, "ANONYMITY_GIVEN" if d.anonymous is False else "ANONYMITY_KEPT")  # (no school: none to tell)

    def _consent_coming(self, state: str | None, d: Draft) -> bool:
        """Whether the consent question is still to come: only where a school is named, or its question is ahead
        (a matter with no school has nobody there to be told, and no such question: never promised)."""
        if state is None or d.school:  # (no message begun: said as it goes for a matter at a school)
            return True
        return state in STEP_ORDER and STEP_ORDER[state] < STEP_ORDER["school"] and STEPS[STEP_ORDER["school"]].needed(self, d)

    def _consent_refused_early(self, state: str, text: str, d: Draft) -> str | None:
        """不同意 where the question on screen has no such answer (after 匿名可以吗), or at the summary after agreeing:
        the school will not know who wrote (同意 is never taken so early: it would tell)."""
        if d.kind == "praise":
            return None
        said = state in BARE_WORD_STEPS or NAMES_WHO_KNOWS.search(text) and state in STEP_ORDER \
            and STEP_ORDER[state] < STEP_ORDER["anonymity"]  # (bare 不同意 may answer the question on screen; at
        # the consent question the step reads its own answer)
        if d.anonymous is None and said or state == "confirm" and d.anonymous is False:
            d.anonymous, d.anonymous_default = True, False
            return _t(d, "ANONYMITY_TAKEN_EARLY")
        return None

    def _anonymous_early(self, state: str, text: str, d: Draft) -> str | None:
        """我要匿名 before the phone question (at the kind's, the school's …): the school will not know who wrote;
        the phone is still asked (only staff see it). At the phone question it declines the phone too (_on_phone);
        at the consent question the step reads it."""
        if d.kind == "praise" or state in ("phone", "anonymity") or state == "kind" and named_kind(text):
            return None  # (我要匿名投诉 at 1 投诉…: the kind's step takes both)
        if d.anonymous is not True and self._consent_coming(state, d):
            d.anonymous, d.anonymous_default = True, False
            return _t(d, "ANONYMITY_TAKEN_EARLY")
        return _t(d, "ANONYMITY_KEPT")

    def _on_phone_given(self, state: str, text: str, d: Draft):
        found = _phone_in_text(text) if state not in ("phone", "confirm") else None
        if found and found.group(1) != d.phone and d.kind != "praise" and not self._tells(self._read_phone(text, d) or ""):
            # 我电话是幺三九…, before it is asked, 算了还是留一下吧 139… after declining, or another number than the one
            # kept from a message before: the phone, never words of the story, never a wrong answer to the question
            self._give_phone(d, found.group(1))
            return self._aside_said(state, d, _t(d, "PHONE_TAKEN"))
        return None

    def _on_give_up(self, state: str, text: str, d: Draft):
        if han_count(text) <= 20 or TAKES_BACK.fullmatch(text):  # at the summary too: never added to what is sent
            # the reassurance first, then what to do: "请接着回答" leads into the question, nothing between
            fear = _t(d, "FEAR_NOTE") + "\n" if FEAR.search(text) and d.kind != "praise" else ""
            d.taken_back = True
            return self._aside_said(state, d, fear + _t(d, "GIVE_UP_ASK"))
        return None

    def _on_carry_on(self, state: str, text: str, d: Draft):
        carry_on = CARRY_ON.match(text)
        if han_count(text[carry_on.end():]) <= 6 and not self._tells(text[carry_on.end():]):
            return self._aside_said(state, d, _t(d, "CARRY_ON"))
        return None

    def _on_asks_progress(self, state: str, text: str, d: Draft):
        if d.category and d.kind != "praise":
            # 多久能处理？ / 然后呢 before submitting: the time limit this message gets, never words of the story
            plans = {k: self._plan(dataclasses.replace(d, kind=k)) for k in ((d.kind,) if d.kind else
                                                                              ("complaint", "inquiry"))}
            if any(self.s.nobody_on_duty(plan, kind) for kind, plan in plans.items()):
                say = _t(d, "DRAFT_DUE_WAITING")  # nobody may act on it: no deadline promised (Desk.nobody_on_duty)
            elif d.kind:
                plan = plans[d.kind]
                say = _t(d, "DRAFT_DUE").format(days=plan.days, due=plan.due(d.lang))
            else:
                say = _t(d, "DRAFT_DUE_KINDS").format(complaint=plans["complaint"].days, inquiry=plans["inquiry"].days)
            return self._aside_said(state, d, say)
        return None

    def _on_wants_edit(self, state: str, text: str, d: Draft):
        # 等下 我想改一下内容 before the summary: how, and the question again (it was added to the message)
        if state != "confirm" and han_count(text) <= 12 and not self._tells(WANTS_EDIT.sub("", text)):
            return self._aside_said(state, d, _t(d, "EDIT_LATER"))
        return None

    def _on_more_to_say(self, state: str, text: str, d: Draft):
        """等一下 我还想说 mid-draft: go on (what comes next is added to the message); the question stays on screen."""
        if state == "describe":  # the matter itself is what is asked for
            return self._out(state, d, [Reply(_t(d, "MORE_PLEASE"))])
        return self._out(state, d, [Reply(_t(d, "MORE_PLEASE_DRAFT"))])

    def _on_hold_on(self, state: str, text: str, d: Draft):
        rest = HOLD_ON.sub("", text).strip(PUNCT)
        if han_count(text) <= 16 and not self._tells(KIND_NAMED.sub("", rest)):  # (要不要投诉: the kind undecided)
            return self._aside_said(state, d, _t(d, "HOLD_ON"))
        return None

    def _on_cant_type(self, state: str, text: str, d: Draft):
        if han_count(text) <= 12:  # 我不太会打字: voice is welcome; nothing added
            return self._aside_said(state, d, _t(d, "VOICE_WELCOME"))
        return None

    def _on_how_to_send(self, state: str, text: str, d: Draft):  # answered; the message in progress unchanged
        return self._aside_said(state, d, _t(d, "MEDIA_HOW"))

    def _answer(self, state: str, text: str, d: Draft, inbound: Inbound, taken_back: bool = False):
        if state != "school" and self._take_school(text, d, inbound.text.strip()):  # a school's name at another question
            return self._advance(d, [Reply(_t(d, "SCHOOL_TAKEN").format(school=self.s.school_names([d.school])[0]))])
        if state != "school" and d.school is None and not han_count(text) and _LATIN_LETTER.search(text) \
                and not set(names.latin_rest(text)) - LATIN_COURTESY and names._latin_query(text)[0]:
            found = self.s.suggest_schools(text)  # "Experimental Primary School", two of them: asked which
            if found:                             # at the school's question, never dropped
                d.school_options = [code for code, _name in found]
                return self._advance(d, [Reply(_t(d, "SCHOOL_OPTIONS_NOTED"))])
        bare_kind = BARE_KIND.match(text)
        kind = dict(KIND_NAMES_ALL)[bare_kind.group(1)] if bare_kind else None
        if kind is None and han_count(text) <= 12 and named_kind(text) and not self._tells(
                KIND_NAMED.sub("", text).strip(PUNCT)):  # 是投诉 不是问问题: the kind, and what it is not
            kind = named_kind(text)
        if kind and state not in ("kind", "confirm"):  # "建议" at the school's question: the kind, said
            if d.kind == "praise":  # praise asked neither phone nor consent: another kind asks both
                d.anonymous = None
            said = _t(d, "KIND_CHANGED") if d.kind and d.kind != kind else _t(d, "KIND_TAKEN")  # 我要投诉 again
            d.kind, d.kind_from = kind, "asked"
            return self._advance(d, [Reply(said.format(kind=_kind_name(d)))])
        lead = KIND_LEAD.match(text) if state != "confirm" and kind is None else None
        if lead and han_count(text[lead.end():]) >= 2:
            kind = dict(KIND_NAMES_ALL)[lead.group(1)]
            said = _t(d, "KIND_CHANGED") if d.kind and d.kind != kind else _t(d, "KIND_TAKEN")
            if d.kind == "praise" or kind == "praise":
                d.anonymous = None  # praise asks neither phone nor consent: another kind asks both
            d.kind, d.kind_from = kind, "asked"
            self._collect(dataclasses.replace(inbound, text=text[lead.end():]), d)
            return self._advance(d, [Reply(said.format(kind=_kind_name(d)) + _t(d, "SUPPLEMENTED"))])
        text = self._by_label(STEP[state], text, d)
        if (state != "describe" or d.parts) and self._changes_subject(text, d, taken_back) and (
                state == "describe" or not self._is_answer(STEP[state], text, d)):
            # 不对，其实我想问校车几点发车: not more of the story -- instead of it, beside it, or a correction? asked
            # (and 当我没说, then the story told anew: it was offered as a new matter, the words taken back saved)
            if self._corrects(text, d):  # 刚才说错了 是400元不是300元: plainly a correction -- kept, as said
                self._keep_words(d, inbound.text.strip())
                return self._advance(d, [Reply(_t(d, "CORRECTION_TAKEN"))])
            d.held, d.back_to = inbound.text.strip(), state
            return self._out("change", d, [Reply(self._ask_change(d))])
        if state != "describe" and not self._is_answer(STEP[state], text, d):
            # People often tell their story in several messages: words where an answer was expected are
            # more of the story, not a wrong answer -- unless they are plainly about something else.
            if self._is_new_matter(inbound.text, d):
                d.held, d.back_to = inbound.text, state
                praise = infer_kind(normalise(inbound.text)) == "praise"  # (not 师德师风: it reads as a charge)
                return self._out("new_matter", d, [Reply(texts.NEW_MATTER.format(
                    category=texts.KIND_NAMES["praise"] if praise else
                    texts.CATEGORY_NAMES.get(self.s.matter(inbound.text)[0], "其他")))])
            self._collect(inbound, d)
            d.similar_checked = d.similar_checked and state != "similar"  # its question is still open
            note = _t(d, "SUPPLEMENTED")
            if state == "kind":  # at the kind question, words that name one (我建议…): said how they were read
                self._refresh(d)
                if d.kind_from == "named":
                    note = _t(d, "KIND_TAKEN").format(kind=_kind_name(d)) + note
            return self._advance(d, [Reply(note)], self._fear_heard(inbound.text, d))
        return STEP[state].answer(self, text, d, inbound)

    def scan(self, state: str, data: dict, school: str | None, unit_name: str) -> tuple[str, dict, list[Reply]]:
        """A QR code scanned in the middle of writing: the draft is about that school from now on."""
        d = Draft.from_dict(data)
        note = _t(d, "SCAN_DRAFT").format(unit=unit_name)
        if school:
            d.school, d.school_from, d.school_options = school, "scanned", []
        if state in DETOURS:
            return self._out(state, d, [Reply(note + "\n" + self._again(state, d))])
        state, data, replies = self._advance(d, [])
        return state, data, [Reply(note + "\n" + replies[0].text), *replies[1:]]  # one message

    # -- the sweep: a reminder before a draft expires ---------------------------------------------------------
    def remind(self, now: float) -> list[Reply]:
        """Once per idle spell, a reminder with the question still open; drafts already expired are kept
        (storage.conversations) to be offered back when their person returns."""
        out = []
        for conv in self.s.to_remind():
            self.s.openid = conv["openid"]
            d = Draft.from_dict(conv["data"])
            step = STEP.get(conv["state"]) or DETOURS.get(conv["state"])
            if step is None:
                continue
            minutes = max(1, round((conv["expires_at"] - now) / 60))
            text = texts.DRAFT_REMIND.format(minutes=minutes, prompt=step.ask(self, d))
            out.append(Reply(text, to=conv["openid"]))
            self.s.mark_reminded(conv["openid"])
        self.s.keep_expired()
        return out

    def _replay(self, result: tuple, words: list[str], inbound: Inbound) -> tuple:
        """Words typed while a detour waited, handled in order now that it is settled, as if just sent; only the
        last question asked is kept."""
        state, data, replies = result
        for w in words:
            again = dataclasses.replace(inbound, text=w, kind="text")
            if state is None:  # nothing in progress any more: the words start a message
                state, data, more = self._begin(Draft(openid=inbound.openid), again)
            else:
                if replies and replies[-1].to is None:
                    replies = replies[:-1]  # its question is asked again after the words
                state, data, more = self.step(state, data, again)
            replies = [*replies, *more]
        return state, data, replies

    # -- a rating while writing ---------------------------------------------------------------------------
    def _maybe_rating(self, state: str, text: str, d: Draft, inbound: Inbound):
        """A resolved ticket awaits a rating and this reply looks like one: it is one, unless it is also a
        valid answer to the question on screen (a bare 3 when 1–4 is asked), and then the person is asked."""
        rating = self.s.rating(inbound.text)
        if rating is None:
            return None
        answers_here = not rating.comment and 1 <= rating.score <= STEP[state].options(d)
        if (answers_here or not rating.sure) and d.not_rating and d.not_rating in self.s.awaiting():
            return None  # "不是，这是一条新留言" said once for this message: its questions are answered, not asked about
        if answers_here or not rating.sure:
            d.held, d.back_to = inbound.text, state
            return self._out("rating", d, [Reply(self._ask_rating(d))])
        replies = self.s.rate(inbound.text, True) or []
        return self._out(state, d, [*replies, Reply(_t(d, "DRAFT_KEPT") + "\n" + self._again(state, d))])

    def _ask_rating(self, d: Draft) -> str:
        rating = self.s.rating(d.held or "")
        number = self.s.awaiting()[0] if self.s.awaiting() else ""
        lang = d.lang or self.s.lang()
        score = (texts.RATING_NAMES_EN if lang == "en" else texts.RATING_NAMES)[rating.score] if rating else ""
        other = texts.pick("RATING_OTHER_ANSWER" if d.back_to else "RATING_OTHER_NEW", lang)
        return texts.pick("RATING_OR_NOT", lang).format(number=number, score=score, other=other)

    def _on_rating(self, text: str, d: Draft, inbound: Inbound):
        n = one_or_two(text)
        if n is None:
            return self._out("rating", d, [Reply(_t(d, "CHOOSE_1_2") + "\n" + self._ask_rating(d))])
        held, back = d.held or "", d.back_to
        d.held, d.back_to = None, None
        if n == 2:
            d.not_rating = next(iter(self.s.awaiting()), None)
        if n == 1:
            replies = self.s.rate(held, True) or []
            if back is None:
                return None, d.to_dict(), replies
            return self._out(back, d, [*replies, Reply(_t(d, "DRAFT_KEPT") + "\n" + self._again(back, d))])
        again = dataclasses.replace(inbound, text=held, kind="text")
        if back is None:  # not a rating: the start of a new message
            return self._begin(d, again)
        return self._answer(back, normalise(held), d, again)

    # -- a new matter in the middle --------------------------------------------------------------------------
    def _is_new_matter(self, text: str, d: Draft) -> bool:
        if not d.category or d.kind == "praise" or introduction(d.text) or goes_on_with_it(normalise(text)):
            return False  # 我是孩子爷爷… then the matter, 而且…, 快点处理…: the story goes on, it is no other matter
        if not any(v > 0 for v in (d.routing.get("scores") or {}).values()):
            return False  # no word placed the draft (昨天我骂了他几句, a guess of the model's): this says what it is about
        category, confidence = self.s.matter(text)  # (its category alone: no urgency, matters or evidence)
        if (category in (d.category, "other_edu", "out_of_scope") or category in d.matters
                or confidence < NEW_MATTER_CONFIDENCE):
            return False
        # a child who will not go to school now, and nothing else placed (孩子都不去上学了 after 老师让孩子罚站走廊): what
        # came of the story told, not another matter
        rest = self.s.without_refusal(text)
        return rest is None or any(v > 0 for c, v in (self.s.route(rest).get("scores") or {}).items()
                                   if c not in ("other_edu", "out_of_scope"))

    def _on_new_matter(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 2)
        if n is None:  # 这是新的问题吗？ -- 是 / 不是，是同一件事
            same = same_matter(text)
            n = {1: 2, 2: 1}.get(same) if same else one_or_two(text)
        if n is None:
            return self._out("new_matter", d, [Reply(_t(d, "CHOOSE_1_2") + "\n" + _t(d, "NEW_MATTER_CHOICES"))])
        held = d.held or ""
        d.held, d.back_to = None, None
        if n == 2:
            self._keep_words(d, held)
            return self._advance(d, [Reply(_t(d, "SUPPLEMENTED"))])
        # A new message first; the one in progress is set aside and offered back when this one is done (its school
        # offered, its phone kept and said: Intake._beside)
        fresh = self._beside(d, Draft(openid=d.openid, shelved=d.to_dict()))
        self._keep_words(fresh, held)
        return self._advance(fresh, [Reply(_t(d, "NEW_MATTER_STARTED"))])

    def _wants_person(self, text: str) -> bool:
        """转人工 / 能给个电话吗，我想直接打电话: a person wanted, and nothing else said about a matter (转人工，孩子被打了
        is a call for help and is handled as one)."""
        m = WANTS_HUMAN.search(text)
        if not m or han_count(text) > 16:
            return False
        for words in (text, text[m.end():].strip(PUNCT)):
            decision = self.s.route(words) if words else {}
            if decision.get("urgent") or any(v > 0 for c, v in (decision.get("scores") or {}).items()
                                             if c not in ("other_edu", "out_of_scope")):
                return False
        return True

    # -- a change of subject ("不对，其实我想问…") ------------------------------------------------------------
    def _changes_subject(self, text: str, d: Draft, taken_back: bool = False) -> bool:
        lead = CHANGE_LEAD.match(text)
        if not (lead or taken_back) or not d.parts or all(opening(p) for p in d.parts):
            return False  # (我想反映个事, then 不对…: the opening said only that a story comes; _collect drops it)
        return self._tells(text[lead.end():].strip(PUNCT) if lead else text)

    @staticmethod
    def _corrects(text: str, d: Draft) -> bool:
        """是400元不是300元: what the message said is named as what it is not."""
        said = normalise(d.text)
        return any((m.group("old") or m.group("old2")).strip(PUNCT) in said for m in CORRECTS.finditer(text)
                   if (m.group("old") or m.group("old2")).strip(PUNCT))

    def _ask_change(self, d: Draft) -> str:
        return _t(d, "CHANGE_ASK").format(old=texts.excerpt(d.text, 40)) + "\n" + _t(d, "CHANGE_CHOICES")

    def _on_change(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 3)
        if n is None:
            return self._out("change", d, [Reply(self._unclear(d, 3, _t(d, "CHANGE_CHOICES")))])
        held = d.held or ""
        d.held, d.back_to = None, None
        lead = CHANGE_LEAD.match(normalise(held))
        rest = normalise(held)[lead.end():].strip(PUNCT) if lead else held
        if n == 3:  # a correction of the story: kept with it, as said ("不对，是上周三" reads right to staff)
            self._keep_words(d, held)
            return self._advance(d, [Reply(_t(d, "SUPPLEMENTED"))])
        fresh = self._beside(d, Draft(openid=d.openid, lang=d.lang))
        self._keep_words(fresh, rest)
        if n == 2:  # both: this one first; the one in progress is set aside and offered back after it
            fresh.shelved = d.to_dict()
            return self._advance(fresh, [Reply(_t(d, "NEW_MATTER_STARTED"))])
        fresh.shelved, fresh.shelved_kept = d.shelved, d.shelved_kept  # one set aside before still comes back
        what = texts.excerpt(d.text, 40) + (_t(d, "CHANGE_WITH_MEDIA") if d.attachments else "")
        return self._advance(fresh, [Reply(_t(d, "CHANGE_REPLACED").format(old=what))])

    # -- an earlier message, offered back ------------------------------------------------------------------
    def _ask_resume(self, d: Draft) -> str:
        old = Draft.from_dict(d.shelved or {"openid": d.openid})
        return _t(d, "RESUME").format(text=texts.excerpt(old.text, 300) or _t(d, "ONLY_MEDIA"))

    def _on_resume(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 2)
        if n is None:
            return self._out("resume", d, [Reply(_t(d, "CHOOSE_1_2") + "\n" + _t(d, "RESUME_CHOICES"))])
        held = d.held or ""
        old = Draft.from_dict(d.shelved or {"openid": d.openid})
        old.attachments += d.attachments
        more = self._tells(held)  # words on coming back: more of the story (or a new matter), never dropped
        # A message it had set aside (a new matter first: "这条提交后接着填写") still comes after it, or now if it is
        # dropped: it was lost unsaid.
        older = self._older(old)
        if n == 1:
            old.held = old.back_to = None
            old.shelved = older
            if more:  # what they wrote on coming back is more of the story (or a new matter: asked)
                state, data, replies = self._advance(old, [])
                state = state or "confirm"
                again = dataclasses.replace(inbound, text=held, kind="text")
                return self._answer(state, normalise(held), Draft.from_dict(data), again)
            return self._advance(old, [Reply(_t(d, "RESUMED"))])
        fresh = Draft(openid=d.openid, school=d.school, school_from=d.school_from)
        if more:
            self._keep_words(fresh, held)
            fresh.shelved, fresh.shelved_kept = older, bool(older)  # offered back once this one is done
            return self._advance(fresh, [Reply(_t(d, "DISCARDED_START"))])
        if older:
            fresh.shelved = older
            ask = _t(d, "RESUME_OLDER").format(text=texts.excerpt(Draft.from_dict(older).text, 300) or _t(d, "ONLY_MEDIA"))
            return self._out("resume", fresh, [Reply(_t(d, "DISCARDED_ONE") + "\n" + ask)])
        return None, fresh.to_dict(), [Reply(_t(d, "DISCARDED"))]

    @staticmethod
    def _older(d: Draft) -> dict | None:
        """The message `d` set aside, if it has words to offer back."""
        older = Draft.from_dict(d.shelved) if d.shelved else None
        if older is None or not (older.parts or older.attachments):
            return None
        older.held = older.back_to = None
        return older.to_dict()

    # -- the steps' answers ----------------------------------------------------------------------------------
    def _on_describe(self, text: str, d: Draft, inbound: Inbound):
        self._collect(inbound, d)
        return self._advance(d, [])

    def _on_kind(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 4)
        kind = KINDS[str(n)] if n else named_kind(text)
        if kind is None:  # 啥意思: what the kinds mean; else the numbers again, briefly
            again = "KIND_EXPLAINED" if WHICH_UNSURE.search(text) else "ASK_KIND_AGAIN"
            return self._out("kind", d, [Reply(_t(d, again))])
        d.kind, d.kind_from = kind, "asked"
        if ANONYMOUS_ONLY.fullmatch(text) and kind != "praise" and self._consent_coming("kind", d):  # 我要匿名投诉
            d.anonymous, d.anonymous_default = True, False
            return self._advance(d, [Reply(_t(d, "ANONYMITY_TAKEN_EARLY"))])
        return self._advance(d, [])

    def _on_focus(self, text: str, d: Draft, inbound: Inbound):
        matters = d.matters
        n = choice(text, len(matters))
        if n is None:
            names = texts.names_in("CATEGORY_NAMES", d.lang)
            named = [c for c in matters if texts.CATEGORY_NAMES.get(c, c) in text or names.get(c, c) in text.lower()]
            n = matters.index(named[0]) + 1 if len(named) == 1 else None
        if n is None and (UNSURE.search(text) or APART.search(text)):
            # 两个都要紧 能不能分开反映: none is dropped, what the choice decides, and how to send one apart
            why = _t(d, "FOCUS_WHY") + ("\n" + _t(d, "FOCUS_APART") if APART.search(text) else "")
            return self._out("focus", d, [Reply(why + "\n" + self._unclear(d, len(matters),
                                                                           self._focus_lines(d, "FOCUS_CHOICES")))])
        if n is None:
            return self._out("focus", d, [Reply(self._unclear(d, len(matters), self._focus_lines(d, "FOCUS_CHOICES")))])
        d.focus = matters[n - 1]
        return self._advance(d, [])

    def _on_out_of_scope(self, text: str, d: Draft, inbound: Inbound):
        n, b = choice(text, 2), bare(text)
        if n == 1 or n is None and confirms(text):
            d.insist = True
            return self._advance(d, [])
        if n == 2 or b in NO_WORDS or b in texts.CANCEL_WORDS or yes_no(text) is False:
            return self._finish(d, [Reply(_t(d, "OUT_OF_SCOPE_DONE"))])  # (one set aside for it goes on)
        return self._out("out_of_scope", d, [Reply(self._unclear(d, 2, _t(d, "OUT_OF_SCOPE_CHOICES")))])

    def _on_school(self, text: str, d: Draft, inbound: Inbound):
        text = self._school_words(text)
        if text in SKIP or DECLINE.match(text) and not self.s.find_school(text):
            d.school, d.school_from, d.school_options = None, "none", []
            return self._advance(d, [])
        n = choice(text, len(d.school_options)) if d.school_options else None
        if n is None and len(d.school_options) == 1 and (han_count(text) <= 3 or thanks_only(text)) \
                and yes_no(text) is True:
            n = 1  # 是这所学校吗？ -- 是的 / 好的，谢谢您
        n = n or self._option_named(text, d)
        if n:
            d.school, d.school_from, d.school_options = d.school_options[n - 1], "asked", []
            return self._advance(d, [])
        place = self._place_only(text)
        if place:  # 江南区的: which school there (没有找到这所学校 would say one was named)
            return self._out("school", d, [Reply(_t(d, "SCHOOL_IN_PLACE").format(place=place))])
        code = self.s.find_school(text)
        if code is None and (ascii_int(text, 3) is not None or han_count(text) <= 3 and yes_no(text) is not None
                             or thanks_only(text)):
            # 2 / 同意 / 行 / 好的谢谢: no school's name where one is asked: say what is wanted, not only the question again
            say = _t(d, "SCHOOL_NAME_WANTED") if not d.school_options else self._unclear(
                d, len(d.school_options), self._ask_school(d))
            return self._out("school", d, [Reply(say)])
        if code is None:
            found = self._schools_offered(text)
            if not found and han_count(text) and not SCHOOL_CHARS.search(text) and (
                    d.school_options or NOT_UNDERSTOOD.search(text) or UNSURE.search(text)):
                # 我不太懂 / 就是问问: no school named ("没有找到这所学校" would say one was) -- the question again
                say = self._unclear(d, len(d.school_options), self._ask_school(d)) if d.school_options else \
                    _t(d, "SCHOOL_WHY") + "\n" + _t(d, "ASK_SCHOOL")
                return self._out("school", d, [Reply(say)])
            d.school_options = found
            if not found and (QUESTION.search(text) or ASKED.search(text)) and d.lang != "en":
                # 你们能管吗？ / 这合理吗: answered, then asked again ("没有找到这所学校" would say one was named)
                return self._out("school", d, [Reply(_t(d, "SCHOOL_WHY") + "\n" + _t(d, "ASK_SCHOOL"))])
            if not found and not han_count(text) and names.latin_family(text) and not names.latin_rest(text):
                # "the primary school": a kind of school, not yet which one
                return self._out("school", d, [Reply(_t(d, "SCHOOL_WHICH_ONE"))])
            if not found:
                return self._out("school", d, [Reply(_t(d, "SCHOOL_NOT_FOUND"))])
            return self._out("school", d, [Reply("\n".join(a for a in (self._none_there(text, d), self._ask_school(d)) if a))])
        d.school, d.school_from, d.school_options = code, "asked", []
        return self._advance(d, [])

    def _on_similar(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 2) or same_matter(text)
        if n == 1:
            number = d.similar
            self.s.append_to(number, inbound.openid, d.text, d.attachments)
            return self._finish(d, [Reply(_t(d, "APPENDED").format(number=number))])
        if n == 2:
            d.similar_checked = True
            return self._advance(d, [])
        return self._out("similar", d, [Reply(self._unclear(d, 2, _t(d, "SIMILAR_CHOICES").format(number=d.similar)))])

    def _on_phone(self, text: str, d: Draft, inbound: Inbound):
        found = PHONE_IN_TEXT.search(phone_digits(text))
        if found:
            self._give_phone(d, found.group(1))
            return self._advance(d, [])
        if ANONYMOUS_ONLY.fullmatch(text) and d.kind != "praise":  # 匿名 at the phone question: no phone, and
            self._decline_phone(d)                                    # nobody at the school told -- both said
            said = [_t(d, "PHONE_SKIPPED")]
            if d.anonymous is None and self._consent_coming("phone", d):
                d.anonymous, d.anonymous_default = True, False
                said.append(_t(d, "ANONYMITY_TAKEN_EARLY").removeprefix(_t(d, "OK_LEAD")).lstrip(": "))
            return self._advance(d, [Reply("\n".join(said))])
        if declines_phone(text):
            self._decline_phone(d)
            return self._advance(d, [])
        if QUESTION.search(text):  # 为什么？ / 有什么用: the phone question's explanation (as ABOUT_STEPS says it)
            return self._said_at("phone", d, self._about_phone("phone", text, d))
        if not _DIGIT.search(text) and yes_no(text) and d.lang != "en":  # 可以 / 好的: willing, no number yet
            return self._out("phone", d, [Reply(_t(d, "PHONE_PLEASE"))])
        if not _DIGIT.search(text):  # 不知道啊, 谢谢: no wrong number in it -- the question again
            return self._out("phone", d, [Reply(self._ask_phone(d))])
        if ascii_int(text.strip(PUNCT), 2) is not None:  # 1: a choice, as at the questions before (1 投诉), no number
            return self._out("phone", d, [Reply(_t(d, "PHONE_NOT_A_CHOICE"))])
        piece = phone_digits(text).strip(PUNCT + "-")
        if piece.isdigit():  # 138, then 1234 5678: a phone sent in pieces, put together as a person would
            whole, d.phone_piece = d.phone_piece + piece, ""
            if PHONE_IN_TEXT.fullmatch(whole):
                self._give_phone(d, whole)
                return self._advance(d, [])
            if len(whole) < 11 and whole[0] in "10" and (len(piece) <= 4 or whole != piece):  # (138, not 1380013:
                #                                                                      a number mistyped short)
                d.phone_piece = whole
                return self._out("phone", d, [Reply(_t(d, "PHONE_PIECE").format(piece=whole))])
        d.phone_piece = ""
        return self._out("phone", d, [Reply(_t(d, "PHONE_INVALID"))])

    def _on_anonymity(self, text: str, d: Draft, inbound: Inbound):
        if FEAR.search(text) and not any(w in text for w in AGREE_DESPITE_NO):  # 怕孩子被穿小鞋: not known
            d.anonymous = True
            return self._advance(d, [])
        agreed = yes_no(text)
        if QUESTION.search(text) or agreed is None and (ASKS_ANONYMITY.search(text) or ASKS_ANONYMITY_EN.search(text)):
            # (学校会知道是我吗 asks; 我不想让学校知道是我 answers)
            return self._out("anonymity", d, [Reply(_t(d, "ANONYMITY_WHY") + "\n" + _t(d, "ASK_ANONYMITY"))])
        if agreed is None:
            return self._out("anonymity", d, [Reply(_t(d, "CHOOSE_1_2") + "\n" + _t(d, "ASK_ANONYMITY"))])
        d.anonymous = not agreed
        return self._advance(d, [])

    def _on_confirm(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 3)
        if n is None and WANTS_EDIT.search(text) and not named_kind(text):
            n = 2
        if n == 1 or n is None and confirms(text):
            plan = self._plan(d)
            ticket = self.s.submit(inbound.openid, d, plan)
            if d.kind == "praise":
                via = plan.school_code and plan.unit_code != plan.school_code  # it names conduct: not the school
                done = _t(d, "SUBMITTED_PRAISE_VIA" if via else "SUBMITTED_PRAISE").format(
                    number=ticket["number"], unit=plan.unit_name)
            elif ticket.get("waits"):  # nobody bound may act on it yet: no deadline promised, nobody told
                done = _t(d, "SUBMITTED_WAITING").format(number=ticket["number"], unit=plan.unit_name)
                if plan.urgent:
                    office = ticket.get("office_told")  # a school's urgent matter: the bureau's office has it too
                    done += "\n" + (_t(d, "URGENT_OFFICE_TOLD").format(office=office) if office else "") \
                        + self.s.hotlines(d.routing, d.lang)
            else:
                done = _t(d, "SUBMITTED").format(number=ticket["number"], unit=plan.unit_name,
                                                 due=plan.due(d.lang))
                if plan.urgent:
                    office = ticket.get("office_told")
                    done += "\n" + (_t(d, "URGENT_SUBMITTED_OFFICE").format(office=office) if office else
                                    _t(d, "URGENT_SUBMITTED")).format(hotlines=self.s.hotlines(d.routing, d.lang))
            return self._finish(d, [Reply(done)])
        if n == 2:  # (written anew: its kind read anew)
            d.parts, d.attachments, d.kind_seen, d.kind_read = [], [], False, 0
            return self._out("describe", d, [Reply(_t(d, "ASK_REWRITE"))])
        if n == 3:
            return self._finish(d, [Reply(_t(d, "CANCELLED"))])
        phone = PHONE_IN_TEXT.fullmatch(phone_digits(text).replace("-", ""))
        if phone and d.kind != "praise":  # the number given late: kept, and the summary shown with it
            self._give_phone(d, phone.group(1))
            return self._advance(d, [Reply(_t(d, "PHONE_TAKEN"))])
        kind = kind_said(text)  # (请问这个钱能退吗 names no kind: a remark, added)
        if kind:  # the kind read from the words was wrong: the person says which, and sees the summary again
            if d.kind == "praise":  # praise asked neither phone nor consent: a complaint asks both
                d.anonymous = None
            d.kind, d.kind_from = kind, "asked"
            return self._advance(d, [Reply(_t(d, "KIND_CHANGED").format(kind=_kind_name(d)))])
        return self._out("confirm", d, [Reply(_t(d, "CHOOSE_1_3"))])

    @staticmethod
    def asks_first(data: dict) -> bool:
        """Whether a word that may be a sigh (算了, texts.CANCEL_ASKED_FIRST) should ask before this draft is
        dropped: it holds what the person wrote, and they were not just asked (GIVE_UP_ASK)."""
        d = Draft.from_dict(data)
        return bool(d.parts or d.attachments) and not d.taken_back

    def cancel(self, data: dict) -> tuple[str | None, dict, list[Reply]]:
        """取消 (the command) while writing: this message is dropped; one it had set aside goes on (it was deleted
        with it, unsaid)."""
        d = Draft.from_dict(data)
        state, data, replies = self._finish(d, [Reply(_t(d, "CANCELLED"))])
        return state, data, [Reply("\n".join(r.text for r in replies))]  # one answer, as a command's is

    def _finish(self, d: Draft, replies: list[Reply]):
        """This message is done; a draft set aside for it is taken up now. Set aside minutes ago for this one (a new
        matter first: "这条提交后接着填写"), it goes on where it was, its words quoted -- asking "您上次没有提交的
        留言…继续还是放弃" of it read as if it were from another day, and asked again what the person had just chosen.
        One kept from an earlier visit, set aside for a call for help, is offered back (continue or drop?)."""
        if d.shelved and d.shelved_kept:
            nxt = Draft(openid=d.openid, shelved=d.shelved)
            return self._out("resume", nxt, [*replies, Reply(self._ask_resume(nxt))])
        if d.shelved:
            old = Draft.from_dict(d.shelved)
            old.held = old.back_to = None
            self._carry_phone(old, d.phone, d.declined_urgent)
            said = _t(d, "SHELVED_GOES_ON").format(text=texts.excerpt(old.text, 60) or _t(d, "ONLY_MEDIA"))
            return self._advance(old, [*replies, Reply(said)])
        return None, d.to_dict(), replies

    # -- moving on -----------------------------------------------------------------------------------------
    def _refresh(self, d: Draft) -> None:
        """Route is read again over the whole text each time it grows, so what is confirmed is what the whole
        message says; the kind too, until it is named or guessed: then only words that say another change it."""
        text = d.text
        decision = self.s.route(text)
        d.routing = decision
        if not d.about_bureau and about_bureau(normalise(text), d):  # 投诉你们教育局…: never sent away to 12345
            d.about_bureau = True
        added = d.parts[d.kind_read:] if d.kind and d.kind_from in ("named", "words") \
            and 0 < d.kind_read <= len(d.parts) else None
        d.kind_read = len(d.parts)
        if added is not None:
            # Named (我要投诉…) or guessed from the first words: words added later (a remark at the phone question,
            # 请问这个钱能退吗 at the summary) change it only by saying another kind (其实我是想咨询一下…).
            said = kind_said(normalise("\n".join(added)))
            if said:
                d.kind, d.kind_from = said, "named"
            if decision.get("urgent") and d.kind in ("praise", "suggestion"):
                d.kind, d.kind_from = "complaint", "urgent"
        elif d.kind_from != "asked":
            plain = normalise(text)  # 打傷 reads as 打伤
            kind = infer_kind(plain) or (None if d.kind_from in ("urgent", "asking") else d.kind)  # read afresh
            named = kind and (decision.get("urgent") or any(w in plain for w in EXPLICIT[kind])  # no guess
                              or kind == "complaint" and any(p.search(plain) for p in DECISIVE))
            # Asked and not answered, or shown in the summary: a guess from the words added is no answer (希望你们快点
            # is no 建议), nor a change (…怎么办？ at the summary does not make a complaint a question); named, it is.
            if named or d.kind_from != "asking" and not d.kind_seen:
                d.kind = kind
                d.kind_from = "named" if named else "words" if kind else None  # "words": shown as a guess
            if decision.get("urgent") and d.kind in (None, "praise", "suggestion"):
                d.kind, d.kind_from = "complaint", "urgent"  # a missing child, self-harm: a call for help, filed
                #                                              at once, never asked whether it is praise
        if d.lang is None:  # the language of the first words decides the replies' language; short English
            d.lang = decision.get("lang") or "zh"  # ("uniform fee") from a person known to write English too
            if d.lang == "zh" and not han_count(text) and english_words(text) and self.s.lang() == "en":
                d.lang = "en"
        # The words name the school: they decide over the last QR code scanned before writing (a code scanned
        # months ago, or another child's school) but not over a school chosen or scanned while writing.
        if decision.get("school") and d.school_from not in ("asked", "scanned"):
            d.school, d.school_from = decision["school"], "text"
        elif d.school_from == "scene" and SCHOOL_KIND.search(text):
            # 孩子在育英小学… from someone who came by another school's QR code: the school the words name loosely,
            # offered for a yes as it is without a code (the code's school was taken silently)
            named = self._schools_named(text)
            if named and d.school not in named:
                d.school, d.school_from, d.school_options = None, None, named
        d.category = d.focus if d.focus in d.matters else decision["category"]
        if d.category == "out_of_scope" and d.matters and d.matters[0] != "out_of_scope":
            d.category = d.matters[0]  # 作业太多…对了路口太堵: the education matter is the bureau's to handle
        if d.category == "out_of_scope" and d.about_bureau:
            d.category = "other_edu"  # the bureau's own work (挂我电话): an education matter, not 非教育事务
        if d.category == "out_of_scope" and decision.get("unplaced"):
            d.category = "other_edu"  # nothing says whose it is (asked once): the duty office reads it, not 12345
        if d.category == "out_of_scope" and d.kind == "praise" and SCHOOL_STAFF.search(text):
            d.category = "other_edu"  # 表扬李老师…陪着去医院: a teacher praised is the bureau's to pass on, not 12345

    def _advance(self, d: Draft, replies: list[Reply], aside: str = "") -> tuple[str | None, dict, list[Reply]]:
        """Ask the first step still needed (the last one, confirm, always is); `aside` is said before it (after
        the safety advice of a danger)."""
        welcome = []
        if d.parts:
            self._refresh(d)
        alert = ""
        if d.routing.get("urgent") and not d.alerted:  # danger: the hotlines now, not after the questions
            d.alerted = True
            alert = _t(d, "URGENT_AT_ONCE").format(hotlines=self.s.hotlines(d.routing, d.lang)) + "\n"
        for step in STEPS:
            if step.state == "phone" and (d.phone is None or d.phone_kept or d.phone_read):
                kept = self._sitting_phone(d)
                aside = "\n".join(a for a in (aside, kept) if a)
            if step.needed(self, d):  # one message: a channel may deliver only the first at once
                if step.state == "kind":
                    d.kind_from = "asking"  # on screen: only an answer, or the kind named, decides it now
                d.kind_seen = d.kind_seen or step.state == "confirm"  # (till the message is written anew)
                if step.state == "school" and d.school_from is None and not d.school_options:
                    named = self._schools_named(d.text)
                    d.school_options = named or self._sitting_school()
                    # 在江南实验小学读三年级: offered, not asked anew; else the school of a message just submitted,
                    # as a new matter mid-draft offers the one set aside's (most likely the same: for a yes)
                    aside = "\n".join(a for a in (aside, named and self._none_there(d.text, d)) if a)
                ask = alert + (aside + "\n" if aside else "") + step.ask(self, d)
                if replies and replies[-1].to is None and not replies[-1].extra:  # the note (已补充…), the question
                    replies = [*replies[:-1], Reply(replies[-1].text + "\n" + ask.removeprefix(_t(d, "ACK")))]
                else:
                    replies = [*replies, Reply(ask)]
                return self._out(step.state, d, [*welcome, *replies])
        raise AssertionError("confirm is always needed")

    @staticmethod
    def _out(state: str | None, d: Draft, replies: list[Reply]) -> tuple[str | None, dict, list[Reply]]:
        return state, d.to_dict(), replies

    def _plan(self, d: Draft) -> Plan:
        routing = {**d.routing, privacy.ACCUSES: True} if self._accuses(d) else d.routing
        if d.about_bureau:  # and the offices it names, none of which may hold it (Desk.barred)
            routing = {**routing, privacy.ABOUT_BUREAU: True, privacy.ACCUSED: self.s.offices_named(normalise(d.text))}
        place = self.s.place_in(normalise(d.text)) if d.school is None and d.category in self.s.district_categories \
            else None  # 江北那边的小学怎么报名: no school, a district's matter -- its bureau (Dispatcher.plan)
        return self.s.plan(d.category, d.school, d.kind, routing, anonymous=bool(d.anonymous), place=place)

    def _accuses(self, d: Draft) -> bool:
        """Praise that also accuses a teacher's or head's conduct: whatever the person calls it, never the school's."""
        return d.kind == "praise" and bool(d.parts) and privacy.accuses(normalise(d.text), self.s.route)

    def _needs_conduct(self, d: Draft) -> bool:
        return d.praise_only != d.text and self._accuses(d)

    def _on_conduct(self, text: str, d: Draft, inbound: Inbound):
        n = choice(text, 2) or {"complaint": 1, "praise": 2}.get(named_kind(text) or "")
        if n is None:
            return self._out("conduct", d, [Reply(_t(d, "CHOOSE_1_2") + "\n" + _t(d, "ASK_CONDUCT"))])
        if n == 1:  # a complaint the bureau handles: asks phone and consent, as praise did not
            d.kind, d.kind_from, d.anonymous = "complaint", "asked", None
            return self._advance(d, [Reply(_t(d, "KIND_TAKEN").format(kind=_kind_name(d)))])
        d.praise_only = d.text
        return self._advance(d, [])

    def _read_conduct(self, text: str, d: Draft) -> str | None:
        if choice(text, 2):
            return ""
        return KIND_NAMED.sub("", text) if named_kind(text) in ("complaint", "praise") else None

    def _again(self, state: str, d: Draft) -> str:
        step = STEP.get(state) or DETOURS[state]
        return step.again(self, d)

    def reminder(self, state: str, data: dict) -> str:
        """The draft is still there, and its open question: said after a command answered mid-draft (查询)."""
        d = Draft.from_dict(data)
        return _t(d, "DRAFT_KEPT") + "\n" + self._again(state, d) if state in STEP or state in DETOURS else ""

    # -- what each step asks ------------------------------------------------------------------------------
    @staticmethod
    def _no_matter_yet(d: Draft) -> bool:
        """"我是孩子爷爷，孙子在育英小学上二年级。": who is writing, not yet what about -- asked for the matter once,
        not whether it is a complaint or praise. And a first line nothing places (还行吧，但是希望能坚持下去: no rule
        word, no education word, the model unsure): asked what it is about, once, never sent to an office on a guess."""
        # (two parts: 我是孩子爷爷 was asked for more, then 孙子在育才中学初二 -- still no matter; a third goes on)
        if d.attachments or d.routing.get("urgent"):
            return False
        if d.routing.get("unplaced") and len(d.parts) == 1 and len(d.text) <= UNPLACED_ASKED_UP_TO:
            return True
        return len(d.parts) <= 2 and introduction(d.text)

    def _ask_describe(self, d: Draft) -> str:
        if not d.parts and d.attachments:
            what = (texts.MEDIA_NAMES_EN if d.lang == "en" else texts.MEDIA_NAMES).get(d.attachments[-1].get("kind"), "")
            return _t(d, "ASK_DESCRIPTION_AFTER_MEDIA").format(what=what.lower() if d.lang == "en" else what)
        if d.matter_asked:  # asked already: what is still missing, never the same words again
            return self._matter_missing(d)
        d.matter_asked = 1
        if d.routing.get("unplaced") and not introduction(d.text):  # 还行吧…: which matter, before "more" of it
            return _t(d, "ASK_WHICH_MATTER")
        # 我要反映个事 / 我是初二学生: a matter is coming, not yet told -- asked for it, not for "more"
        return _t(d, "ASK_MATTER") if len(d.text) >= MIN_DESCRIPTION or introduction(d.text) else _t(d, "ASK_MORE")

    def _ask_describe_again(self, d: Draft) -> str:
        """The matter asked for after a remark beside it (你们管不管, 在吗): what is missing (it was just asked)."""
        if not d.parts and d.attachments:
            return self._ask_describe(d)
        return self._matter_missing(d)

    @staticmethod
    def _matter_missing(d: Draft) -> str:
        """What is missing, then an example of a message (a parent stuck for words), in turn."""
        d.matter_asked = max(d.matter_asked, 1) + 1  # (asked at the first words without counting: once)
        if d.matter_asked % 2:
            return _t(d, "MATTER_EXAMPLE")
        return _t(d, "MATTER_MISSING_SCHOOL" if d.school else "MATTER_MISSING")

    def _ask_out_of_scope(self, d: Draft) -> str:
        """12345 for what is not the bureau's; but a short question from someone with an open ticket (这个钱什么时候
        能退啊) is most likely about that ticket: how to ask about it is said first."""
        ask = _t(d, "OUT_OF_SCOPE")
        numbers = self.s.open_numbers() if len(d.text) <= (FOLLOW_UP_CHARS_EN if d.lang == "en" else
                                                            FOLLOW_UP_CHARS) else []
        return _t(d, "OUT_OF_SCOPE_OPEN").format(number=numbers[0]) + "\n" + ask if numbers else ask

    def _ask_phone(self, d: Draft) -> str:
        if d.phone == "":  # declined while the matter was not urgent: once more, saying why
            return _t(d, "PHONE_AGAIN_URGENT")
        return _t(d, "ASK_PHONE_URGENT" if d.routing.get("urgent") else "ASK_PHONE")

    # -- the phone of this sitting: ONE rule ------------------------------------------------------------------
    @staticmethod
    def _decline_phone(d: Draft) -> None:
        d.phone, d.declined_urgent = "", bool(d.routing.get("urgent"))

    @staticmethod
    def _carry_phone(d: Draft, phone: str | None, declined_urgent: bool) -> None:
        """A message begun in the sitting of another (set aside for it, replacing it, or after it was submitted)
        keeps the phone given or declined for that one: said where its question would come, never assumed
        silently; declined for a matter that was not urgent, an urgent one asks once more (the step's `needed`)."""
        if phone is None or d.phone is not None or d.kind == "praise":
            return
        d.phone, d.declined_urgent, d.phone_kept = phone, declined_urgent, True

    def _beside(self, d: Draft, fresh: Draft) -> Draft:
        """A message begun beside or instead of `d` in its sitting: the QR code's school holds; the school said or
        offered for `d` is offered for a yes (most likely the same, never assumed); the phone is carried."""
        if d.school_from in ("scene", "scanned"):
            fresh.school, fresh.school_from = d.school, d.school_from
        else:  # (江南三中 offered, not yet confirmed, when the other matter came: offered again)
            fresh.school_options = [d.school] if d.school else list(d.school_options)
        self._carry_phone(fresh, d.phone, d.declined_urgent)
        return fresh

    def _sitting_school(self) -> list[str]:
        filed = self.s.just_filed()
        return [filed["school_code"]] if filed and filed.get("school_code") else []

    def _sitting_phone(self, d: Draft) -> str:
        """At the phone question's place: the phone of this sitting taken (a message just submitted: its phone),
        and what is said of it, once ("" when nothing is to be said, or the question is asked)."""
        if d.phone_read:  # written in the message: confirmed as it is, once
            d.phone_read = False
            return _t(d, "PHONE_READ").format(phone=mask_phone(d.phone)) if d.phone and d.kind != "praise" else ""
        if d.phone is None and d.kind != "praise":
            filed = self.s.just_filed()
            if filed and filed.get("kind") != "praise":
                self._carry_phone(d, filed.get("contact_phone") or "", bool((filed.get("routing") or {}).get("urgent")))
        if not d.phone_kept or STEP["phone"].needed(self, d):
            return ""  # (asked again: the question says why)
        d.phone_kept = False
        return _t(d, "PHONE_KEPT").format(phone=mask_phone(d.phone)) if d.phone else _t(d, "PHONE_NONE_KEPT")

    def _ask_focus(self, d: Draft) -> str:
        return self._focus_lines(d, "ASK_FOCUS")

    def _focus_lines(self, d: Draft, name: str) -> str:
        names = texts.CATEGORY_NAMES_EN if d.lang == "en" else texts.CATEGORY_NAMES
        return _t(d, name).format(lines="\n".join(f"{i} {names.get(c, c)}" for i, c in enumerate(d.matters, 1)))

    @staticmethod
    def _unclear(d: Draft, options: int, choices: str) -> str:
        """An answer that is none of the numbered choices: which numbers to send, then the choices again."""
        if options == 1:  # 是这所学校吗？: the question says what to send ("请回复 1 至 1" would not)
            return choices
        say = _t(d, "CHOOSE_1_2") if options == 2 else _t(d, "CHOOSE_N").format(n=options)
        return say + "\n" + choices

    def _schools_named(self, text: str) -> list[str]:
        """A school named loosely in a story or a reply (江南实验小学 for 江南区实验小学; 实验小学吧 好像是江南的), to be
        offered for a yes: a name-like run (…小学) after the last word that leads into a name (在, 读, 上…), if the
        directory reads it as one school for sure, among those of a place the text names (好像是江南的). At most two
        runs, one lookup each: fuzzy matching costs ~15 ms over a city's directory."""
        for m in list(SCHOOL_NAME.finditer(normalise(text)))[:2]:
            name = NAME_LEAD.split(m.group(0))[-1]
            code = self.s.find_school(name, said=text) if len(name) >= 4 or _NUMBERED_NAME.fullmatch(name) else None
            if code:
                return [code]
            if len(name) >= 4 and self.s.place_in(text):
                # 江北那个实验小学 where 江北区 has none: the near ones of the city, as the school question offers them
                near = [c for c, _name in self.s.suggest_schools(name, said=text)]
                if near:
                    return near
        # "My son at Wenchang Primary School …": a name in pinyin or English within an English story
        for name in names.latin_names(text)[:2] if not han_count(text) else ():
            code = self.s.find_school(name)
            if code:
                return [code]
        return []

    def _none_there(self, said: str, d: Draft) -> str:
        """江北区没有找到这个名字的学校: said before the near matches offered when the place the words name has none
        of them (else the offer reads as if 江北's were meant), "" otherwise."""
        place = self.s.place_lacks(normalise(said), d.school_options) if d.school_options and d.school is None else None
        return _t(d, "SCHOOL_NOT_IN_PLACE").format(place=place) if place else ""

    def _ask_school(self, d: Draft) -> str:
        if not d.school_options:
            return _t(d, "ASK_SCHOOL")
        names = self.s.school_names(d.school_options)
        lines = "\n".join(f"{i} {name}" for i, name in enumerate(names, 1))
        return _t(d, "SCHOOL_SUGGEST_ONE" if len(names) == 1 else "SCHOOL_SUGGEST").format(lines=lines)

    def _ask_similar(self, d: Draft) -> str:
        """About d.similar, the ticket an answer 1 adds to: an earlier one like it, or (还有… just after submitting)
        the one just filed -- its number and choices again, never a bare "请回复 1 或 2"."""
        found = self.s.similar(d)
        if found and found["number"] == d.similar:
            return _t(d, "SIMILAR").format(number=found["number"], date=found["date"], state=found["state"])
        if d.similar:
            return _t(d, "GOES_ON_ASK").format(number=d.similar) + "\n" + _t(d, "SIMILAR_CHOICES").format(number=d.similar)
        return _t(d, "CHOOSE_1_2")

    def _needs_similar(self, d: Draft) -> bool:
        if d.similar_checked or d.kind == "praise" or d.routing.get("urgent"):  # an emergency is never merged
            return False
        d.similar_checked = True
        found = self.s.similar(d)
        d.similar = found["number"] if found else None
        return found is not None

    def _needs_anonymity(self, d: Draft) -> bool:
        if d.anonymous is not None:
            return False
        if not d.school or d.kind == "praise":
            d.anonymous = d.kind != "praise"  # no school named: nobody there to be told; praise is public
            d.anonymous_default = True
            return False
        return True

    def _summary(self, d: Draft) -> str:
        plan = self._plan(d)
        # nobody may act on it (Desk.nobody_on_duty): the summary promises no deadline, as the filing reply does not
        waits = d.kind != "praise" and self.s.nobody_on_duty(plan, d.kind)
        if d.lang == "en" and "SUMMARY" in texts.EN:  # the whole text here too, as in Chinese
            return texts.EN["SUMMARY"].format(
                kind=_kind_name(d), excerpt=d.text, unit=plan.unit_name,
                school=texts.EN["SUMMARY_SCHOOL"].format(school=plan.school_name) if plan.school_name else "",
                phone=mask_phone(d.phone) if d.phone else "none",
                days=f"{plan.days} working day" + ("s" if plan.days != 1 else ""), due=plan.due(d.lang),
                deadline="" if d.kind == "praise" else texts.EN["SUMMARY_WAITING"] if waits else
                texts.EN["SUMMARY_DEADLINE"].format(
                    days=f"{plan.days} working day" + ("s" if plan.days != 1 else ""), due=plan.due(d.lang)),
                more="".join(texts.EN[k].format(n=len(d.attachments)) + "\n" for k, on in (
                    ("SUMMARY_ATTACHED", d.attachments), ("SUMMARY_HIDDEN", plan.school_name and d.anonymous),
                    ("SUMMARY_URGENT", plan.urgent)) if on))
        lines = [texts.SUMMARY_HEAD, f"类型：{_kind_name(d)}"
                 + (texts.KIND_GUESSED.format(other="”“".join(  # the two most likely others, never the same kind
                     ["改为" + texts.KIND_NAMES[k] for k in ("suggestion", "inquiry", "complaint") if k != d.kind][:2]))
                    if d.kind_from == "words" else "")]
        if len(d.matters) > 1 and d.kind != "praise":
            names = [texts.CATEGORY_NAMES.get(c, c) + ("（为主）" if c == d.category else "") for c in d.matters]
            lines.append("涉及事项：" + "、".join(names))
        if d.attachments:
            lines.append(f"附件：{len(d.attachments)}个")
        if plan.school_name:
            lines.append(f"涉及学校：{plan.school_name}")
        if d.kind == "praise":
            lines.append(f"转达：{plan.unit_name}")
            if plan.school_name and plan.unit_code != d.school:  # it names a teacher's conduct: not the school
                lines.append(texts.PRAISE_VIA_BUREAU)
        else:
            lines.append(f"承办单位：{plan.unit_name}")
            lines.append(f"联系电话：{mask_phone(d.phone)}")
            if plan.school_name:
                lines.append("身份信息：" + ("对学校保密" if d.anonymous else "可告知学校"))
            lines.append(texts.SUMMARY_WAITING if waits else f"办结时限：{plan.days}个工作日，{plan.due_text}前")
            if plan.urgent:
                lines.append(texts.URGENT_SUMMARY)
        # The whole text, last before the choices, so the person can check every word; a long one is split
        # into several messages by the channel (bot/receiver.split_text), the choices staying at the end.
        lines.append(f"内容：{d.text}")
        lines.append(texts.SUMMARY_CHOICES)
        return "\n".join(lines)

    # -- collected data --------------------------------------------------------------------------------------
    @staticmethod
    def _collect(inbound: Inbound, d: Draft) -> None:
        if inbound.kind == "location" and inbound.location:
            d.attachments.append({"kind": "location", "location": inbound.location})
            return
        if inbound.kind == "link" and inbound.link:
            d.attachments.append({"kind": "link", "link": inbound.link})
            return
        if inbound.text and normalise(inbound.text) and not GREETING.fullmatch(normalise(inbound.text)):
            if d.parts and not opening(inbound.text) and all(opening(p) for p in d.parts):
                d.parts = []  # 我想反映个事, then the story: the opening said only that a story comes
            Intake._keep_words(d, inbound.text)  # a bare 你好 is a greeting, not part of the complaint
        if inbound.kind in ("image", "voice", "video"):
            d.attachments.append({"kind": inbound.kind, "media_id": inbound.media_id,
                                  "url": inbound.media_url, "text": inbound.text or None})

    @staticmethod
    def _keep_words(d: Draft, text: str) -> None:
        """Words of the matter into the draft, as `words_kept` keeps them; a number written in them as the person's
        own (…我电话138…, 联系电话：138…) is the phone too: confirmed where its question comes, never asked for again,
        never taken for the number of a message before."""
        words = words_kept(text)
        if not words:
            return
        d.parts.append(words)
        own = own_phone(words)
        if own and own != d.phone:
            Intake._give_phone(d, own)
            d.phone_read = True

    @staticmethod
    def _give_phone(d: Draft, phone: str) -> None:
        """A number the person gave: theirs for this message, whatever was carried from one before."""
        d.phone, d.phone_kept = phone, False

    # -- an answer, or more of the story: ONE rule for every question ------------------------------------------
    def _by_label(self, step: Step, text: str, d: Draft) -> str:
        """A numbered option answered in its words (补充到原留言, 作为新留言, 继续, 不同意) as its number."""
        if not step.options(d) or choice(text, step.options(d)):
            return text
        said = bare(text)
        if len(said) < 2:
            return text
        hits = {n for n, label in _labels(step.ask(self, d)).items() if said in label}
        return hits.pop() if len(hits) == 1 else text

    def _is_answer(self, step: Step, text: str, d: Draft) -> bool:
        """Whether a reply answers the question on screen. It does when the step reads an answer in it and
        nothing else it says tells us something; otherwise, if it tells us something (a sentence, or words the
        router knows as an education matter), it is more of the story or another matter, and is kept. A reply
        that does neither (好的, 5, 不知道) is left to the step, which asks again in its own words."""
        rest = step.read(self, text, d) if step.read else ("" if choice(text, step.options(d)) else None)
        if rest is not None and not self._tells(rest):
            return True
        return not self._tells(text)

    def _tells(self, text: str) -> bool:
        """Whether words say something about the matter (so they must be kept), unlike 好的, 不用, 不知道."""
        told, t = _tells_by_length(text)
        if told is not None:
            return told
        return self._names_matter(t)

    def _names_matter(self, t: str) -> bool:
        """Whether the router finds an education matter in words: 乱收费, 老师打人 -- a keyword of the rules, not the
        model's guess (which gives 可以 a category too), whatever their length (他在外地打工挺忙的没空 has none)."""
        decision = self.s.route(t.encode("utf-8", "ignore").decode("utf-8"))  # (a lone surrogate: the converter raises)
        scores = decision.get("scores") or {}
        return bool(decision.get("urgent")) or any(
            v > 0 for c, v in scores.items() if c not in ("other_edu", "out_of_scope"))

    # What each step reads as its answer, and what is left of the reply once it is taken out (see Step.read).
    def _read_kind(self, text: str, d: Draft) -> str | None:
        if choice(text, 4):
            return ""
        named = named_kind(text)
        if named and not han_count(text):  # "I want to complain": the answer and the question's words
            for _kind, pattern in EN_KINDS:
                text = pattern.sub("", text)
            return EN_KIND_NAMED.sub("", text)
        return KIND_NAMED.sub("", text) if named else None

    def _read_focus(self, text: str, d: Draft) -> str | None:
        if choice(text, len(d.matters)):
            return ""
        names = [texts.CATEGORY_NAMES.get(c, c) for c in d.matters]
        named = [n for n in names if n in text]
        if len(named) != 1:
            return None
        return text.replace(named[0], "")

    def _read_yes_no(self, text: str, d: Draft) -> str | None:
        b = bare(text)
        if choice(text, 2) or b in NO_WORDS or b in texts.CANCEL_WORDS:
            return ""
        return CONFIRM_WORDS.sub("", text) if confirms(text) or yes_no(text) is False else None

    @staticmethod
    def _school_words(text: str) -> str:
        """孙子在滨河小学 at the school question: the name, without the words that lead into it."""
        name = SCHOOL_LEAD.sub("", text)
        if name != text and SCHOOL_NAME.fullmatch(name):
            return name
        parts = [p for p in CLAUSES.split(text) if p]
        # (which clauses say nothing is asked only when one clause is a name: a sentence has none, and asking
        # costs a reading of each clause)
        named = [(i, n) for i, p in enumerate(parts) if SCHOOL_NAME.fullmatch(n := SCHOOL_LEAD.sub("", p))] \
            if len(parts) > 1 else []
        if not named:
            return text
        idle = [_tells_by_length(p)[0] is False for p in parts]  # 不知道是哪个学校: says nothing
        names = [n for i, n in named if not idle[i]]
        if len(names) == 1 and sum(idle) == len(parts) - 1:
            return names[0]  # 不知道全名 就是文昌小学: the name, beside words that say nothing of the matter
        return text

    def _schools_offered(self, text: str) -> list[str]:
        """The schools a reply to the school question may mean, to be offered: the directory's close matches to the
        whole reply, else a name within it (实验小学吧 好像是江南的: the hedges around it are no part of a name)."""
        found = [code for code, _name in self.s.suggest_schools(text)] or self._schools_named(text)
        core = FILLER.sub("", SCHOOL_HEDGE.sub("", SCHOOL_LEAD.sub("", text))).strip(PUNCT)
        if not found and core != text and han_count(core) >= 2:  # 学校是实验的: the name's piece, offered
            found = [code for code, _name in self.s.suggest_schools(core)]
        return found

    def _option_named(self, text: str, d: Draft) -> int | None:
        """江南区的那个 / 实验小学那所 at 是这所学校吗？: the one offered school whose name holds what is left once the
        pointing words go (two characters at least), by its number; None if none or more than one does."""
        if not d.school_options or han_count(text) > 12:
            return None
        core = OPTION_POINTING.sub("", text).strip(PUNCT)
        if len(core) < 2:
            return None
        hits = [i for i, name in enumerate(self.s.school_names(d.school_options), 1) if core in name]
        return hits[0] if len(hits) == 1 else None

    def _place_only(self, text: str) -> str | None:
        """The district a reply names with nothing but hedges around it (好像是江南的吧), else None."""
        text = FILLER.sub("", SCHOOL_HEDGE.sub("", text))
        return self.s.place_only(text) if SCHOOL_PLACE.search(text) else None  # (most replies name no place)

    def _read_school(self, text: str, d: Draft) -> str | None:
        text = self._school_words(text)
        if d.school_options and (choice(text, len(d.school_options)) or self._option_named(text, d)):
            return ""
        if self._place_only(text):
            return ""  # 江南那边的: an answer, if not yet a school
        if text in SKIP or DECLINE.match(text):
            return beside_school(DECLINE.sub("", text))
        code = self.s.find_school(text)
        if code:
            name = self.s.school_names([code])[0]
            return beside_school(text, [name]) if name in text else ""
        found = self._schools_offered(text)
        if found:  # (江北那个育英小学, 江北 having none: the place says which school was meant, no more)
            place = self.s.place_in(text) or ""
            return beside_school(text.replace(place, "").replace(place[:-1], "") if place else text,
                                 self.s.school_names(found))
        # 火星第一小学: meant as a school's name, even one we do not know
        named = SCHOOL_NAME.sub("", text) if SCHOOL_KIND.search(text) else text
        return beside_school(named) if named != text else None

    def _read_phone(self, text: str, d: Draft) -> str | None:
        compact = phone_digits(text)
        found = PHONE_IN_TEXT.search(compact)
        if found:  # (用的我老公的 139…: whose number it is says nothing more)
            rest = compact.replace(found.group(1), "").strip(PUNCT)
            return "" if self._whose_phone(rest) else PHONE_WORDS.sub("", rest)
        if declines_phone(text) or QUESTION.search(text) or _FIVE_DIGITS.search(compact) or OTHER_CONTACT.search(text):
            return PHONE_WORDS.sub("", QUESTION.sub("", DECLINE.sub("", PHONE_TOPIC.sub("", NO_PHONE.sub("", text)))))
        return None

    def _read_matter(self, text: str, d: Draft) -> str | None:
        """同类问题 / 新的问题 answered in words (是同一件事, 是新的问题, 不是)."""
        if choice(text, 2):
            return ""
        if same_matter(text) or yes_no(text) is not None:
            return MATTER_WORDS.sub("", text)
        return None

    def _read_confirm(self, text: str, d: Draft) -> str | None:
        if choice(text, 3):
            return ""
        if confirms(text):
            return CONFIRM_WORDS.sub("", _ASK_NO_MORE.sub("", text))
        if WANTS_EDIT.search(text) and not named_kind(text):
            return re.sub(r"(?:我们?)?(?:想|要|需要|得)?$", "", WANTS_EDIT.sub("", text).strip(PUNCT))
        return KIND_NAMED.sub("", text) if kind_said(text) else None  # 改为建议: the kind corrected

    def _read_anonymity(self, text: str, d: Draft) -> str | None:
        if ASKS_ANONYMITY.search(text) or ASKS_ANONYMITY_EN.search(text):  # 学校会知道是我吗: this very question
            return ""
        if QUESTION.search(text) or yes_no(text) is not None or FEAR.search(text):
            return ANONYMITY_WORDS.sub("", QUESTION.sub("", text))
        return None


def _always(i: Intake, d: Draft) -> bool:
    return True


# 中考报名费多少 / 学费多少钱？: a short question that says what it asks -- answered by the office, never asked for
# "时间、地点、涉及的人员" (a short complaint, 学校乱收费, still is: what happened is for the office to read)
_ASKS_WHAT = re.compile(r"多少|几[个天年月号点块元]|什么时候|啥时候|哪里|哪儿|在哪|怎么|如何|吗|么|[?？]")


def _whole_question(d: Draft) -> bool:
    return (d.kind == "inquiry" and han_count(d.text) >= SENTENCE_CHARS and not d.attachments
            and d.category not in ("out_of_scope", None) and not d.routing.get("unplaced")
            and _ASKS_WHAT.search(d.text) is not None)


def _always_yes(d: Draft) -> bool:
    return True


STEPS: tuple[Step, ...] = (
    Step("describe", lambda i, d: len(d.text) < MIN_DESCRIPTION and not _whole_question(d) or i._no_matter_yet(d),
         Intake._ask_describe,
         Intake._ask_describe_again, Intake._on_describe, why="DESCRIBE_WHY"),
    # an urgent matter is never sent away to 12345: the bureau's duty office takes it
    # nor a complaint about the bureau itself: ours by definition, whatever its words
    Step("out_of_scope", lambda i, d: d.category == "out_of_scope" and not d.insist and not d.routing.get("urgent")
         and not d.about_bureau,
         Intake._ask_out_of_scope, Intake._ask_out_of_scope, Intake._on_out_of_scope, lambda d: 2,
         Intake._read_yes_no, "OUT_OF_SCOPE_WHY", yes=_always_yes),
    Step("kind", lambda i, d: d.kind is None, lambda i, d: _t(d, "ASK_KIND"),
         lambda i, d: _t(d, "ASK_KIND"), Intake._on_kind, lambda d: 4, Intake._read_kind,
         "KIND_WHY"),
    Step("conduct", Intake._needs_conduct, lambda i, d: _t(d, "ASK_CONDUCT"), lambda i, d: _t(d, "ASK_CONDUCT"),
         Intake._on_conduct, lambda d: 2, Intake._read_conduct, "CONDUCT_WHY"),
    Step("focus", lambda i, d: len(d.matters) > 1 and d.focus not in d.matters and d.kind != "praise",
         Intake._ask_focus, Intake._ask_focus, Intake._on_focus, lambda d: len(d.matters), Intake._read_focus,
         "FOCUS_WHY"),
    # praise goes to the school it is about (表扬江南实验小学的王老师): asked whatever office its words point to
    Step("school", lambda i, d: d.school is None and d.school_from != "none" and (
        d.category in i.s.needs_school or d.kind == "praise" and bool(PRAISED_AT_SCHOOL.search(d.text))),
         Intake._ask_school, Intake._ask_school, Intake._on_school, lambda d: len(d.school_options),
         Intake._read_school, "SCHOOL_WHY", yes=lambda d: len(d.school_options) == 1),  # 是这所学校吗？
    Step("similar", Intake._needs_similar, Intake._ask_similar, Intake._ask_similar,
         Intake._on_similar, lambda d: 2, Intake._read_matter, "SIMILAR_WHY"),
    # asked when not yet decided, and once more when declined for a matter that was not urgent and now is
    Step("phone", lambda i, d: d.kind != "praise" and (d.phone is None or d.phone == "" and not d.declined_urgent
                                                       and bool(d.routing.get("urgent"))),
         Intake._ask_phone, Intake._ask_phone, Intake._on_phone, read=Intake._read_phone, why="PHONE_WHY",
         yes=_always_yes, short="PHONE_SHORT"),  # (yes: 好的 is willing, the number is asked for)
    Step("anonymity", Intake._needs_anonymity, lambda i, d: _t(d, "ASK_ANONYMITY"),
         lambda i, d: _t(d, "ASK_ANONYMITY"), Intake._on_anonymity, lambda d: 2, Intake._read_anonymity,
         "ANONYMITY_WHY", yes=_always_yes),
    Step("confirm", _always, Intake._summary, lambda i, d: _t(d, "CHOOSE_1_3"), Intake._on_confirm, lambda d: 3,
         Intake._read_confirm, "CONFIRM_WHY", yes=_always_yes),
)
STEP = {s.state: s for s in STEPS}

# Questions off the path; each returns to where the person was (`Draft.back_to`) or starts afresh.
DETOURS: dict[str, Step] = {s.state: s for s in (
    Step("new_matter", _always, lambda i, d: _t(d, "NEW_MATTER_CHOICES"), lambda i, d: _t(d, "NEW_MATTER_CHOICES"),
         Intake._on_new_matter, lambda d: 2, Intake._read_matter, "NEW_MATTER_WHY", yes=_always_yes),
    Step("rating", _always, Intake._ask_rating, Intake._ask_rating, Intake._on_rating, lambda d: 2, yes=_always_yes),
    Step("resume", _always, Intake._ask_resume, Intake._ask_resume, Intake._on_resume, lambda d: 2, why="RESUME_WHY"),
    Step("officer", _always, Intake._ask_officer, Intake._ask_officer, Intake._on_officer, lambda d: 2,
         why="OFFICER_WHY", yes=_always_yes),
    Step("change", _always, Intake._ask_change, lambda i, d: _t(d, "CHANGE_CHOICES"), Intake._on_change,
         lambda d: 3, why="CHANGE_WHY"),
)}


@dataclass(frozen=True)
class Aside:
    """A remark answered beside the question on screen: `look`, a cheap test every such remark passes, and
    `answer`, which answers it (or None when a closer look says it is not one). `may_be_aside`, the prefilter
    every reply meets, is the union of the looks: an aside is added here, in one place, or not at all."""

    look: Callable[[str], Any]
    answer: Callable[["Intake", str, str, Draft], tuple | None]


@dataclass(frozen=True)
class AboutStep:
    """A remark about one step of the conversation (`step`), said at any step: `look`, a cheap test every such remark
    passes; `answer` (state, text, draft), what is said before the question on screen is asked again (a decision
    said early is kept in the draft first), or None when a closer look says it is not one. `early`: only before the
    step is reached (at it, the step reads its own answer)."""

    step: str | None  # None: the question on screen, or the one the words name (为什么要问这个？)
    look: Callable[[str], Any]
    answer: Callable[["Intake", str, str, Draft], str | None]
    early: bool = False
    decides: bool = False  # an answer said early (kept), not a question: never before a message is begun
    # its look reads a reply to its end, leads and after-words too (我没有手机 用的我老公的): a reply it reads is one
    # remark, never split into clauses (我没有手机 alone would decline the phone)
    whole: bool = False


# Questions and worries about a step, and its answer said before it is asked: ONE table, one aside row.
ABOUT_STEPS: tuple[AboutStep, ...] = (  # in order: the first that answers wins (a decision before a question:
    #                                    不想让学校知道是我 decides; 学校会知道是我吗 asks; whose phone before a
    #                                    decline: 我没有手机 用的我老公的 declines nothing)
    AboutStep("phone", lambda t: PHONE_NOT_MINE.match(t) or PHONE_NOT_MINE_EN.match(t), Intake._phone_not_mine,
              whole=True),  # 用的我老公的 / 这是我女儿的号
    AboutStep("phone", lambda t: declines_phone_early(t) or PHONE_DECLINE_WORD.fullmatch(t),  # 不留电话 / 那不留了
              Intake._phone_declined_early, early=True, decides=True),
    AboutStep("phone", asks_about_phone, Intake._about_phone),         # 电话会给学校吗 / 电话安全吗
    AboutStep("anonymity", CONSENT_REFUSED.fullmatch, Intake._consent_refused_early, decides=True),  # 不同意
    AboutStep("anonymity", _asks_anonymity, Intake._about_consent),   # 匿名可以吗 / 学校会知道是我吗
    AboutStep("anonymity", ANONYMOUS_ONLY.fullmatch, Intake._anonymous_early, decides=True),  # 我要匿名 (at 1 投诉…)
    AboutStep(None, ASKS_WHY_ASKED.match, Intake._why_asked),         # 为什么要问这个？ / 问学校干嘛
)
STEP_ORDER = {s.state: i for i, s in enumerate(STEPS)}


# A reply's clauses, each with its question mark (电话会给学校？ 匿名可以吗)
ASIDE_CLAUSE = re.compile(r"[^，,。.！!；;？?\s]+[？?！!。.~～…]*")


# A word every row of ABOUT_STEPS needs (one search first: most replies have none of them). In parts, one found
# where any is: re skips ahead to an alternation's first characters only when each branch begins with a character
# and without IGNORECASE (else it tries every branch at every character: one pattern of all was ~3x dearer); the
# family word's optional lead (_OWNER) adds no place where the word is found.
_ABOUT_WORD_PARTS = (
    re.compile(r"电话|手机|号码|的号|微信|账号|联系|匿名|保密|实名|知道|告诉|透露|通知|不(?:想|愿意?|方便)?留|不同意|打(?:给|电话|我|过来)|"
               r"给我打|找我|回电|为什么|为啥|干[嘛什啥]|凭什么|咋|做什么|什么用|啥用|为了(?:什么|啥)|一定|必须|非得|非要"),
    re.compile(r"[用借](?:的|我|孩子|家)|[留填写给](?:我|孩子|家)|[别要用]打"),
    re.compile(_FAMILY + r"的"),
)
_ABOUT_WORD_EN = re.compile(r"number|phone|call|contact|anonym|confidential|know|find out|agree|name|" + _FAMILY_EN, re.I)


def _about_word(text: str):
    words, marks, family = _ABOUT_WORD_PARTS
    return words.search(text) or marks.search(text) or family.search(text)


def _about_a_step(text: str) -> bool:
    if not (_about_word(text) or _LATIN_LETTER.search(text) and _ABOUT_WORD_EN.search(text)):
        return False
    if any(row.look(text) for row in ABOUT_STEPS):
        return True
    clauses = ASIDE_CLAUSE.findall(text) if len(text) <= 60 else ()  # (a story is longer: its words are kept)
    return len(clauses) > 1 and any(row.look(c) for c in clauses for row in ABOUT_STEPS)


ASIDES: tuple[Aside, ...] = (  # in order: the first that answers wins
    Aside(GREETING.fullmatch, Intake._on_greeting),
    Aside(WHO_ASKS.match, Intake._on_who_asks),
    Aside(ASKS_IF_WE_HANDLE.match, Intake._on_we_handle),
    Aside(WANTS_HUMAN.search, Intake._on_wants_human),
    Aside(thanks_only, Intake._on_thanks),
    Aside(EMOJI_ONLY.fullmatch, Intake._on_emoji),
    Aside(_about_a_step, Intake._on_about_step),
    Aside(_phone_in_text, Intake._on_phone_given),
    Aside(gives_up, Intake._on_give_up),
    Aside(TAKES_BACK.fullmatch, Intake._on_give_up),  # 哎 算了吧 mid-draft: asked, never the message dropped
    Aside(CARRY_ON.match, Intake._on_carry_on),
    Aside(asks_progress, Intake._on_asks_progress),
    Aside(CANT_TYPE.search, Intake._on_cant_type),
    Aside(MORE_TO_SAY.fullmatch, Intake._on_more_to_say),
    Aside(HOLD_ON.match, Intake._on_hold_on),
    Aside(WANTS_EDIT.search, Intake._on_wants_edit),
    Aside(asks_how_to_send, Intake._on_how_to_send),
)
_ASIDE_LOOKS = tuple(aside.look for aside in ASIDES)


class IntakeServices:
    """What the intake conversation needs from the rest of the system (routing, directory, tickets)."""

    openid: str    # whose conversation this is
    needs_school: frozenset[str]
    district_categories: frozenset[str]  # what the district bureau of a school or of a place named handles
    notices: list  # pushes caused by a submission (the staff to tell), sent with the conversation's reply
    route: Callable[[str], dict]
    matter: Callable[[str], tuple[str, float]]             # route(text)'s category and confidence alone
    find_school: Callable[..., str | None]                   # (text, loose=True, said=None): see _Services.find_school
    suggest_schools: Callable[..., list[tuple[str, str]]]    # (text, said=None): up to three (code, name), best first
    place_only: Callable[[str], str | None]                  # the district a reply names and nothing else (江南那边的)
    place_in: Callable[[str], str | None]                    # the one district a text names anywhere in it
    place_lacks: Callable[[str, list[str]], str | None]      # the district a text names, none of these schools in it
    school_names: Callable[[list[str]], list[str]]
    similar: Callable[[Draft], dict | None]
    goes_on: Callable[[Draft], dict | None]           # the ticket just filed, if these words may be added to it
    plan: Callable[..., Plan]
    offices_named: Callable[[str], list[str]]         # the bureau's offices the text names (privacy.ACCUSED)
    submit: Callable[[str, Draft, Plan], dict]
    append_to: Callable[[str, str, str, list], None]
    welcome: Callable[..., str | None]                # the welcome, once, for a person who never followed
    lang: Callable[[], str | None]                    # the language the person writes in (users.lang), if known
    just_filed: Callable[[], dict | None]             # the person's ticket submitted in the last minutes, if any
    change_kind: Callable[[str, str], list[Reply]]    # 改为建议 after submitting: change it (unsigned) or explain
    answered: Callable[[], str | None]                # the number of their open ticket the office has answered
    reply_to: Callable[[str, str], list[Reply]]       # pass the person's words to the officer of that ticket
    english_welcome: bool                             # their first English words: the English welcome is owed
    kept: Callable[[], dict | None]                   # an expired, unsubmitted draft of this person
    awaiting: Callable[[], list[str]]                 # numbers of this person's tickets awaiting a rating
    open_numbers: Callable[[], list[str]]             # numbers of this person's latest tickets still open
    status_text: Callable[[], str]                    # what 查询 shows them: their tickets, states and deadlines
    rating: Callable[..., Any]                        # followup.Rating of a text, if a rating is pending
    rate: Callable[[str, bool], list[Reply] | None]   # apply it
    to_remind: Callable[[], list[dict]]               # idle drafts due a reminder (any person)
    hotlines: Callable[[dict, str | None], str]       # the hotlines an urgent routing calls for, in a language
    without_refusal: Callable[[str], str | None]      # the text less a child's refusal of school, None if none
    who_we_are: Callable[[str | None], str]           # 你们是谁？: the account and what it is for, in a language
    reach_person: Callable[[str | None], str]         # 转人工: who handles messages, and the bureau's hotline if any
    mark_reminded: Callable[[str], None]
    keep_expired: Callable[[], int]
