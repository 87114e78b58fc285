"""Hot topics of a week: the phrases many of that week's tickets share, never a person.

Each text is cut once with jieba's part-of-speech tagger (with the router's dictionary, so school names and
education terms stay whole; without the HMM guesser, which is four times slower and glues unknown names into
words). Candidates are nouns and noun-like words, and phrases of two or three adjacent ones
("食堂" + "饭菜" -> "食堂饭菜", "资料" + "费" -> "资料费"). Dropped: person names (jieba `nr`, `nrfg`, `nrt`, and a
surname before 老师/校长/同学…), anything with a digit or a Chinese numeral (class names, sums, phone numbers,
IDs), Latin letters (WeChat IDs, e-mail), and words every message has (stop-words). A phrase is ranked by how
many tickets use it, weighted by how rare the word is in general Chinese (jieba's word frequencies), and a word
is left out when a phrase containing it covers nearly the same tickets.

jieba.posseg loads its tag table on first use (tens of MB), so it is imported here, inside the function, by the
weekly job only — never by the webhook's path.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

# Words every message has; they say nothing about what the week was about.
STOP = {
    "学校", "孩子", "老师", "家长", "学生", "投诉", "反映", "请问", "问题", "希望", "要求", "情况", "我们", "现在", "没有",
    "一个", "什么", "这个", "还是", "已经", "可以", "能否", "建议", "咨询", "表扬", "感谢", "谢谢", "每天", "学期",
    "时候", "时间", "事情", "事件", "东西", "地方", "方面", "部门", "领导", "处理", "解决", "回复", "电话", "号码",
    "微信", "家里", "小孩", "女儿", "儿子", "同学", "班级", "年级", "本人", "我家", "他们", "她们", "你们", "今天",
    "昨天", "明天", "上午", "下午", "晚上", "最近", "目前", "今年", "去年", "明年", "本周", "上周", "一下", "尽快",
    "妈妈", "爸爸", "奶奶", "爷爷", "教育局", "教育", "原因", "结果", "意见", "工作", "相关", "有关", "人员", "大家", "其他", "其中", "这种", "那种",
}
CONTENT_FLAGS = ("n", "nz", "vn", "nt", "nl", "ng", "l", "i", "an", "nw")
NAME_FLAGS = ("nr", "nrfg", "nrt")
TITLES = ("老师", "校长", "主任", "同学", "班主任", "园长", "书记", "局长", "家长", "妈妈", "爸爸", "先生", "女士")
SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
NUMERAL = re.compile(r"[0-9０-９零一二三四五六七八九十百千万两壹贰叁肆伍陆柒捌玖拾]")
LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ_@]")


def _cutter(tokenizer):
    from jieba import posseg  # the tag table is loaded here, by the weekly job only
    if tokenizer is None:
        return posseg.dt
    # The router's tokenizer (school names, education terms) with the tag table posseg has just loaded for the
    # same main dictionary: POSTokenizer(tokenizer) would read and parse that file a second time (~1 s).
    cutter = posseg.POSTokenizer.__new__(posseg.POSTokenizer)
    cutter.tokenizer = tokenizer
    # posseg's table itself, not a copy (349k entries: 27-70 ms a call, more than cutting the job's 100 texts). posseg
    # writes into it only a tokenizer's own tagged words (makesure_userdict_loaded, on every cut): merged here
    # instead, into a table of this cutter's, so the shared one never changes (the router adds its words untagged).
    own = getattr(tokenizer, "user_word_tag_tab", None)
    cutter.word_tag_tab = {**posseg.dt.word_tag_tab, **own} if own else posseg.dt.word_tag_tab
    cutter.makesure_userdict_loaded = lambda: None
    return cutter


def _allowed(word: str) -> bool:
    return (len(word) >= 2 and word not in STOP and not NUMERAL.search(word) and not LATIN.search(word)
            and not (word.endswith(TITLES) and word not in TITLES))  # 王老师, 华妈妈: someone, not a topic


def terms(text: str, cut, HMM: bool = False) -> set[str]:
    """The candidate topics of one text: content words and phrases of adjacent content words."""
    tokens = [(p.word, p.flag) for p in cut.cut(text, HMM=HMM)]
    out: set[str] = set()
    run: list[str] = []
    for i, (word, flag) in enumerate(tokens + [("。", "x")]):
        name = flag in NAME_FLAGS or (word in SURNAMES and i + 1 < len(tokens) and tokens[i + 1][0] in TITLES)
        # 'x' on Chinese characters: a word from the router's dictionary (education terms, school names)
        known = flag == "x" and len(word) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in word)
        content = not name and (flag.startswith(CONTENT_FLAGS) or known) and not NUMERAL.search(word) \
            and not LATIN.search(word)
        if content and word not in STOP:
            run.append(word)
            if len(word) >= 2:
                out.add(word)
            continue
        for size in (2, 3):  # phrases inside the run of adjacent content words
            for j in range(len(run) - size + 1):
                out.add("".join(run[j:j + size]))
        run = []
    return {t for t in out if _allowed(t) and len(t) <= 8}


def rarity(word: str, tokenizer) -> float:
    """1 for a word jieba's general dictionary does not know (a phrase, a specialised term), lower for common."""
    freq = getattr(tokenizer, "FREQ", None) or {}
    total = getattr(tokenizer, "total", 0) or 1
    f = freq.get(word, 0)
    if not f:
        return 1.0
    return min(1.0, math.log(total / f) / 16)


def hot(tokenised: list[list[str]], tokenizer=None, top: int = 8) -> list[tuple[str, int]]:
    """The week's topics from each ticket's candidate terms, each with the number of tickets that use it."""
    return ranked(Counter(t for terms_ in tokenised for t in terms_), len(tokenised), tokenizer, top)


def ranked(docs: Counter, tickets: int, tokenizer=None, top: int = 8) -> list[tuple[str, int]]:
    """The topics from the number of tickets using each term, out of `tickets`."""
    if not tickets:
        return []
    floor = 2 if tickets >= 4 else 1  # one ticket's words are not a trend, unless the week is tiny
    ranked = sorted((t for t, n in docs.items() if n >= floor),
                    key=lambda t: (-(docs[t] * (0.5 + rarity(t, tokenizer))), -len(t), t))
    chosen: list[str] = []
    for t in ranked:
        if any(t in c and docs[c] >= 0.7 * docs[t] for c in chosen):
            continue  # a chosen phrase already names these tickets (资料 inside 资料费)
        covered = [c for c in chosen if c in t and docs[t] >= 0.7 * docs[c]]
        if covered:  # the longer phrase says more: it takes the shorter word's place
            chosen = [c for c in chosen if c not in covered]
        chosen.append(t)
        if len(chosen) >= top * 2:
            break
    best = sorted(chosen, key=lambda t: (-docs[t], -len(t), t))[:top]
    return [(t, docs[t]) for t in best]


def for_scopes(rows: list[tuple[str | None, str | None, str | None]], scopes: dict[str, set[str] | None],
               tokenizer=None, top: int = 8) -> dict[str, list[tuple[str, int]]]:
    """Topics per scope from a period's tickets as (unit_code, stored terms, text) (storage.tickets.period_terms):
    each ticket's terms as the background job stored them when it came in (bot/scheduler.py topic_terms: the
    same cut, terms_of, with the same tokenizer), else its text cut now, each text once. A scope maps to its
    member units (None: every unit). The cost follows the tickets not yet cut, not the period's texts."""
    missing = [text or "" for _, terms_, text in rows if terms_ is None]
    cut = iter(terms_of(missing, tokenizer) if missing else ())
    tokenised = [(unit, terms_.split() if terms_ is not None else next(cut)) for unit, terms_, _ in rows]
    return {scope: hot([ts for unit, ts in tokenised if members is None or unit in members], tokenizer, top)
            for scope, members in scopes.items()}


# The cut's own rules: this module's (STOP, the flags, the phrases, _allowed) and how _cutter joins the router's
# dictionary to jieba's tags. Bump it with any change that changes a text's terms, and record the new fingerprint
# of tests/test_digest16.py's golden texts (that test fails until both are done); an edit that leaves every text's
# terms as they were (a comment, a faster loop) keeps it, so 400 days of stored terms are not cut again.
CUT_RULES = 1


def cut_version(tokenizer=None) -> str:
    """What a ticket's stored terms depend on besides its text: the rules (CUT_RULES), jieba, and the tokenizer's
    dictionary (the router's own words and frequencies over jieba's). Terms stored under another version are
    dropped and cut again (bot/scheduler.py topic_terms), so a digest never counts a mix."""
    cached = getattr(tokenizer, "_topics_cut_version", None)
    if cached is not None:
        return cached
    import jieba
    freq = getattr(tokenizer, "FREQ", None)
    own = sorted(dict.items(freq)) if isinstance(freq, dict) and hasattr(freq, "base") else []  # the router's
    h = hashlib.blake2b(repr((CUT_RULES, jieba.__version__, getattr(tokenizer, "total", None), len(freq or ()),
                              own)).encode(), digest_size=12)
    version = h.hexdigest()
    if tokenizer is not None:
        tokenizer._topics_cut_version = version  # the router's dictionary is fixed once built
    return version


def terms_of(texts: list[str], tokenizer=None) -> list[list[str]]:
    """Each text's candidate terms, sorted (what storage keeps per ticket, see bot/scheduler.py topic_terms)."""
    cut = _cutter(tokenizer)
    return [sorted(terms(text, cut)) for text in texts]


def hot_from(rows: list[tuple[str | None, str | None]], tokenizer=None, top: int = 8) -> list[tuple[str, int]]:
    """Topics of one scope from (stored terms, text) per ticket (see for_scopes)."""
    return for_scopes([(None, terms_, text) for terms_, text in rows], {"all": None}, tokenizer, top)["all"]
