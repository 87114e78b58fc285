"""The campaign's conversations in the bot (issue 13): 群众评议 surveys, instant answers from 常见问题, and the
custom menu's clicks. The dispatcher calls three hooks, each marked there: `message` (a survey or an instant
answer's feedback is running, or someone asks for 评议), `instant_answer` (a new message that a common question
answers) and `event` (survey QR codes, menu clicks). Everything runs inside the inbound's transaction.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from handlers import followup, texts
from handlers.faq import FaqBook, with_stored as with_stored_faq
from handlers.intake import (EMOJI_ONLY, MIN_DESCRIPTION, NO_WORDS, SUPPLEMENT_CHARS, YES, bare, choice, english_words,
                             infer_kind, normalise, yes_no)
from handlers.messages import Inbound, Reply
from handlers.numbers import ascii_int
from handlers.survey import SKIP, Policy, Survey, parse_scene, with_stored as with_stored_surveys
from storage import (campaign_defs, conversations, directory, edits, faq as faq_store, staff, surveys, tickets, users,
                     websessions)

if TYPE_CHECKING:
    from handlers.dispatcher import Dispatcher

SURVEY, FAQ = "survey", "faq"
# Custom menu CLICK keys (bot/menu.py builds the menu with them).
MENU_WRITE, MENU_QUERY, MENU_PUBLIC, MENU_SURVEY, MENU_HELP = "WRITE", "QUERY", "PUBLIC", "SURVEY", "HELP"
# A free-text answer becomes a ticket offer when it is this clear about an education matter.
TICKET_CONFIDENCE = 0.3


_READ = object()  # Campaign.message: read the person's flow itself

class Campaign:
    def __init__(self, d: "Dispatcher", policy: Policy | None = None, faq: FaqBook | None = None):
        self.d = d
        self.p = policy or Policy()
        self.faq = faq
        # What the [campaign] files say; sync() adds what leaders wrote in the workbench.
        self._files = (dict(self.p.surveys), list(faq.entries) if faq else [])
        self._version: int | None = None

    @property
    def files(self) -> tuple[dict[str, Survey], list]:
        """(surveys, common questions) of the [campaign] files, before the workbench's."""
        return self._files

    def sync(self, db) -> None:
        """Take in surveys and common questions written in the workbench (by this or another process) when
        their version moved: one small read per message otherwise. Any connection will do (it only reads)."""
        version = edits.version(db, edits.CAMPAIGN)
        if version == self._version:
            return
        known = {u["code"]: u["kind"] for u in directory.all_units(db)}
        self.p.surveys = with_stored_surveys(self._files[0], campaign_defs.rows(db, "survey"), self.p.tz, known)
        entries, _ = with_stored_faq(self._files[1], campaign_defs.rows(db, "faq"), known)
        min_score, margin = (self.faq.min_score, self.faq.margin) if self.faq else (self.p.faq_min_score, 0.08)
        self.faq = FaqBook(entries, self.d.router.tokenizer, min_score, margin) if entries else None
        self._version = version

    # -- hooks -------------------------------------------------------------------------------------------------
    def message(self, db, user: dict, inbound: Inbound, text: str,
                flow: str | None | object = _READ) -> tuple[list[Reply] | None, list[Reply]]:
        """(replies, None) when handled here; (None, prefix) when the message goes on to the intake, with what
        to say first (e.g. that the survey was paused). `flow`: the person's live flow, when already read.
        Nothing is written to the person's conversation unless that flow is a survey's or an instant answer's."""
        self.sync(db)
        now = self.d.clock.now()
        if flow is _READ:
            flow = conversations.flow(db, inbound.openid, now)
        if flow == FAQ:
            return self._faq_feedback(db, user, inbound, text)
        if flow == SURVEY:
            conv = conversations.get(db, inbound.openid, now)
            return self._survey_step(db, user, inbound, text, conv["state"], conv["data"])
        if flow is None and inbound.kind == "text" and asks_for_person(text):
            late = self._asked_late(db, user, inbound, text)
            if late is not None:
                return late, []
        for word in texts.SURVEY_WORDS:
            if inbound.kind == "text" and text.startswith(word) and len(text) <= len(word) + 20:
                return self.survey_entry(db, user, inbound.openid, text[len(word):].strip()), []
        if inbound.kind == "text" and len(text) <= 16 and SURVEY_INTENT.search(text) \
                and any(s.is_open(now) for s in self.p.surveys.values()):  # 我想给学校打个分
            return self.survey_entry(db, user, inbound.openid, ""), []
        return None, []

    def instant_answer(self, db, inbound: Inbound, text: str) -> list[Reply] | None:
        """A new question answered at once from 常见问题, if one fits with confidence."""
        self.sync(db)
        if self.faq is None or inbound.kind != "text" or len(text) < 4:  # a voice or picture stays with its ticket
            return None
        if infer_kind(text) not in ("inquiry", None):
            return None  # a complaint or suggestion is for people to handle, even when it asks a question
        if self.d.routing(inbound.text.strip()).get("urgent"):  # the intake's own words: one routing
            return None  # a call for help gets the hotlines and an urgent ticket, never a common answer
        now = self.d.clock.now()
        found = self.faq.match(text, self._today(now))
        if found is None:
            return None
        entry, score = found
        lang = users.lang(db, inbound.openid)
        if lang == "en" and not entry.answer_en:
            return None  # an answer they could not read: a person answers instead
        # the question as typed: it becomes the ticket's text if they ask for a person, even late (_asked_late)
        answer_id = faq_store.served(db, entry.id, inbound.openid, inbound.text.strip(), score, now)
        conversations.put(db, inbound.openid, FAQ, "feedback", {"answer": answer_id, "text": inbound.text.strip()},
                          now, self.d.policy.conversation_minutes * 60)
        unit = directory.get(db, entry.unit)
        name = unit["name"] if unit else entry.unit
        if lang == "en":
            return [Reply(f"{entry.answer_en}\n{texts.EN['FAQ_FROM'].format(unit=name)}\n\n{texts.EN['FAQ_ASK']}")]
        return [Reply(texts.FAQ_ANSWER.format(answer=entry.answer, unit=name))]

    def event(self, db, inbound: Inbound) -> list[Reply] | None:
        """Survey QR codes (subscribe and SCAN) and the menu's clicks; None for what the dispatcher handles."""
        self.sync(db)
        if inbound.event in ("subscribe", "scan") and parse_scene(inbound.scene):
            return self._survey_scan(db, inbound)
        if inbound.event == "click":
            key = (inbound.event_key or "").upper()
            if key == MENU_WRITE:
                return [Reply(texts.MENU_WRITE)]
            if key == MENU_PUBLIC:
                return [Reply(self._public(db, inbound.openid))]
            if key == MENU_SURVEY:
                return self.survey_entry(db, users.get(db, inbound.openid) or {}, inbound.openid, "")
        return None

    # -- surveys: ways in ---------------------------------------------------------------------------------------
    def _writing(self, db, openid: str) -> bool:
        """A message being written: a survey must not replace it (one conversation per person)."""
        return conversations.flow(db, openid, self.d.clock.now()) == "intake"

    def _survey_scan(self, db, inbound: Inbound) -> list[Reply]:
        lang = users.lang(db, inbound.openid)
        now = self.d.clock.now()
        survey_id, unit_code = parse_scene(inbound.scene)
        unit = directory.get(db, unit_code)
        survey = self.p.surveys.get(survey_id)
        # Later messages relate to the unit, as if its own code had been scanned.
        users.set_scene(db, inbound.openid, directory.scene_for(unit) if unit else None, now)
        head = []
        if inbound.event == "subscribe":
            head = [texts.WELCOME.format(org=self.d.policy.organisation, bot=self.d.policy.name,
                                         commitment=self.d.policy.commitment)]
        if unit is None or survey is None or not unit["active"] or not survey.covers(unit):
            return [Reply("\n\n".join([*head, texts.pick("SURVEY_UNKNOWN_CODE", lang)]))]
        if self._writing(db, inbound.openid):
            return [Reply(texts.pick("SURVEY_AFTER_MESSAGE", lang))]
        replies = self.start(db, users.get(db, inbound.openid) or {}, inbound.openid, survey, unit)
        if head:
            replies = [Reply("\n\n".join([*head, replies[0].text])), *replies[1:]]
        return replies

    def survey_entry(self, db, user: dict, openid: str, rest: str) -> list[Reply]:
        """评议 (or the menu): the named school, else an unfinished attempt, else the unit of the code last
        scanned, else ask which school."""
        lang = users.lang(db, openid)
        self.sync(db)
        now = self.d.clock.now()
        open_ = [s for s in self.p.surveys.values() if s.is_open(now)]
        if not open_:
            return [Reply(texts.pick("SURVEY_NONE_OPEN", lang))]
        if self._writing(db, openid):
            return [Reply(texts.pick("SURVEY_AFTER_MESSAGE", lang))]
        if rest:
            code = self.d.router.find_school(rest) or self._find_unit(db, rest) or self.d._intake(db).s.find_school(rest)
            if code:
                return self._start_for_unit(db, user, openid, directory.get(db, code), open_)
        for draft in surveys.drafts(db, openid):
            survey = self.p.surveys.get(draft["survey_id"])
            if survey and survey.is_open(now):
                return self.start(db, user, openid, survey, directory.get(db, draft["unit_code"]))
        unit = directory.by_scene(db, user["scene"]) if user.get("scene") else None
        if unit and any(s.covers(unit) for s in open_):
            return self._start_for_unit(db, user, openid, unit, open_)
        first = min(open_, key=lambda s: s.closes)
        self._keep(db, openid, "unit", {"survey": None})
        return [Reply(texts.pick("SURVEY_WHICH_UNIT", lang).format(title=first.title_in(lang), closes=self._date(lang, first.closes)))]

    def _start_for_unit(self, db, user, openid, unit, open_: list[Survey]) -> list[Reply]:
        lang = users.lang(db, openid)
        covering = sorted((s for s in open_ if s.covers(unit)), key=lambda s: s.closes)
        if not covering:
            return [Reply(texts.pick("SURVEY_NOT_COVERED", lang).format(unit=unit["name"]))]
        return self.start(db, user, openid, covering[0], unit)

    def _find_unit(self, db, text: str) -> str | None:
        units = directory.all_units(db)
        exact = [u["code"] for u in units if text in (u["name"], u["code"])]
        if exact:
            return exact[0]
        hits = [u["code"] for u in units if text in u["name"] or u["name"] in text]
        return hits[0] if len(hits) == 1 else None

    def start(self, db, user: dict, openid: str, survey: Survey, unit: dict) -> list[Reply]:
        lang = users.lang(db, openid)
        now = self.d.clock.now()
        if now < survey.opens_at:
            return [Reply(texts.pick("SURVEY_NOT_YET", lang).format(title=survey.title_in(lang), date=self._date(lang, survey.opens)))]
        if now >= survey.closes_at:
            return [Reply(texts.pick("SURVEY_CLOSED", lang).format(title=survey.title_in(lang), date=self._date(lang, survey.closes)))]
        if surveys.insider(db, openid, unit["code"]):
            return [Reply(texts.pick("SURVEY_INSIDER", lang).format(unit=unit["name"]))]
        allowed, rated = surveys.may_rate(db, survey.id, unit["code"], openid, self.p.units_per_person)
        if not allowed:
            return [Reply(self._over_cap(db, openid, survey, unit, rated))]
        row = surveys.get(db, survey.id, unit["code"], openid)
        first_seen = user.get("first_seen_at") or now
        data = {"survey": survey.id, "unit": unit["code"],
                "new": now - first_seen <= self.p.new_follower_minutes * 60}
        if row and row["draft"] is not None:
            i = survey.next_question(row["draft"])
            if i is not None and row["draft"]:
                self._keep(db, openid, "answer", data)
                return [Reply(texts.pick("SURVEY_RESUME", lang).format(unit=unit["name"], title=survey.title_in(lang), number=i + 1)
                              + "\n\n" + survey.questions[i].prompt(i + 1, len(survey.questions), lang))]
        if row and row["answers"] is not None:
            if self._closed(row, now):
                return [Reply(self._counted(lang, row, unit))]
            self._keep(db, openid, "redo", data)
            when = dt.datetime.fromtimestamp(row["submitted_at"], self.d.calendar.tz)
            return [Reply(texts.pick("SURVEY_ALREADY", lang).format(date=self._date(lang, when.date()), unit=unit["name"]))]
        surveys.begin(db, survey.id, unit["code"], openid, now, {})
        self._keep(db, openid, "answer", data)
        intro = texts.pick("SURVEY_INTRO", lang).format(title=survey.title_in(lang), unit=unit["name"],
                                                        total=len(survey.questions))
        more = (survey.intro_en or "") if lang == "en" else survey.intro
        if more:
            intro += "\n" + more
        return [Reply(intro + "\n\n" + survey.questions[0].prompt(1, len(survey.questions), lang))]

    # -- surveys: one message within ----------------------------------------------------------------------------
    def _survey_step(self, db, user, inbound: Inbound, text: str, state: str, data: dict):
        lang = users.lang(db, inbound.openid)
        openid, now = inbound.openid, self.d.clock.now()
        if text in texts.SURVEY_EXIT_WORDS:
            conversations.delete(db, openid)
            return [Reply(texts.pick("SURVEY_PAUSED", lang))], []
        if state == "unit":
            return self._on_unit(db, user, inbound, text)
        survey = self.p.surveys.get(data["survey"])
        unit = directory.get(db, data["unit"])
        if survey is None or unit is None or not survey.is_open(now):
            conversations.delete(db, openid)  # the survey was withdrawn or closed meanwhile
            return None, []
        if surveys.insider(db, openid, unit["code"]):  # bound as its staff since the survey began
            conversations.delete(db, openid)
            return [Reply(texts.pick("SURVEY_INSIDER", lang).format(unit=unit["name"]))], []
        row = surveys.get(db, survey.id, unit["code"], openid)
        if state == "rating" and (data.get("back") == "redo" or row is not None and row["draft"] is not None):
            return self._on_rating(db, user, inbound, text, survey, unit, row, data)  # held at redo: no draft
        if state in ("redo", "ticket") and self._holds_rating(db, inbound, data):
            # a 1/2 question of its own: “1” there may be 满意 for a ticket just 办结 (as at the questions, below)
            data["back"] = state
            self._keep(db, openid, "rating", data)
            return [Reply(self._ask_rating(db, openid, data["held"], lang))], []
        if state == "redo":
            n = choice(text, 2) or (1 if text in YES else 2 if text in NO_WORDS else None)
            if n == 1 and self._closed(row, now):  # the month turned while they chose
                conversations.delete(db, openid)
                return [Reply(self._counted(lang, row, unit))], []
            if n == 1:
                surveys.begin(db, survey.id, unit["code"], openid, now, {})
                self._keep(db, openid, "answer", data)
                return [Reply(survey.questions[0].prompt(1, len(survey.questions), lang))], []
            if n == 2:
                conversations.delete(db, openid)
                return [Reply(texts.pick("SURVEY_KEPT", lang))], []
            return self._not_an_answer(db, inbound, text, texts.pick("CHOOSE_1_2", lang) + "\n"
                                       + texts.pick("SURVEY_ALREADY_CHOICES", lang))
        if row is None or row["draft"] is None:
            conversations.delete(db, openid)
            return None, []
        draft = row["draft"]
        if state == "ticket":
            return self._on_ticket_offer(db, inbound, text, survey, unit, row, data)
        i = survey.next_question(draft)
        if i is None:  # answered everything already (e.g. a retry after a crash): finish
            return self._finish(db, openid, survey, unit, row, data), []
        q = survey.questions[i]
        if inbound.kind not in ("text", "voice") or not inbound.text.strip():
            return [Reply(texts.pick("SURVEY_TEXT_ONLY", lang) + "\n" + q.prompt(i + 1, len(survey.questions), lang))], []
        if q.type == "text" and self.d.routing(inbound.text.strip()).get("urgent"):
            # A call for help written as an opinion: the intake takes it now (hotlines, an urgent ticket), not a
            # "1 转为留言 2 不用了" that a 2 would drop; the survey waits at this question.
            conversations.delete(db, openid)
            return None, [Reply(texts.pick("SURVEY_PAUSED_FOR_MESSAGE", lang))]
        if q.type != "text" and self._holds_rating(db, inbound, data):
            # "1" just after the push that a ticket is 办结: 满意 for the ticket, or the school's worst mark here?
            # Asked, as the intake asks (never guessed: a rating read as 1 of 5 marks the school down)
            self._keep(db, openid, "rating", data)
            return [Reply(self._ask_rating(db, openid, data["held"], lang))], []
        value = q.parse(inbound.text)
        if value is None:
            return self._not_an_answer(db, inbound, text, texts.pick("SURVEY_NOT_UNDERSTOOD", lang) + "\n"
                                       + q.prompt(i + 1, len(survey.questions), lang))
        draft[q.id] = None if value is SKIP else value
        surveys.save_draft(db, row["id"], draft, now)
        if q.type == "text" and value is not SKIP and self._concrete(value):
            data["offer"] = q.id
            self._keep(db, openid, "ticket", data)
            return [Reply(texts.pick("SURVEY_OFFER_TICKET", lang))], []
        return self._next(db, openid, survey, unit, row, data), []

    def _holds_rating(self, db, inbound: Inbound, data: dict) -> bool:
        """At a numbered question of the survey or the 常见问题 answer: does the reply read as a rating while a ticket
        awaits one (and the person has not said their numbers answer the questions)? Then it is held in `data`,
        to be asked about: one rule for every such question (each answered a bare “1” as its own before)."""
        if data.get("not_rating") or not self._looks_rated(db, inbound.openid, inbound.text):
            return False
        data["held"] = inbound.text.strip()
        return True

    def _looks_rated(self, db, openid: str, text: str) -> bool:
        rating = followup.parse(text)
        return rating is not None and bool(tickets.awaiting_rating(db, openid))

    def _ask_rating(self, db, openid: str, held: str, lang: str | None) -> str:
        rating = followup.parse(held)
        waiting = tickets.awaiting_rating(db, openid)
        names = texts.RATING_NAMES_EN if lang == "en" else texts.RATING_NAMES
        return texts.pick("RATING_OR_NOT", lang).format(
            number=waiting[0]["number"] if waiting else "", score=names[rating.score] if rating else "",
            other=texts.pick("RATING_OTHER_ANSWER", lang))

    def _on_rating(self, db, user, inbound: Inbound, text: str, survey: Survey, unit, row, data):
        """1: the held reply rates the ticket, and the survey's question is asked again; 2: it answers it."""
        lang = users.lang(db, inbound.openid)
        held = data.pop("held", "")
        n = choice(text, 2) or (1 if text in YES else 2 if text in NO_WORDS else None)
        if n is None:
            data["held"] = held
            return [Reply(texts.pick("CHOOSE_1_2", lang) + "\n" + self._ask_rating(db, inbound.openid, held, lang))], []
        back = data.pop("back", "answer")  # the question it was held at
        if n == 1:
            rated = self.d.followup.rate(db, inbound.openid, held, doubtful=True) or []
            if back == "answer":
                return _joined([*rated, *self._next(db, inbound.openid, survey, unit, row, data)]), []
            self._keep(db, inbound.openid, back, data)  # the question it interrupted, asked again
            again = texts.pick("SURVEY_ALREADY_CHOICES" if back == "redo" else "SURVEY_OFFER_TICKET", lang)
            return _joined([*rated, Reply(again)]), []
        data["not_rating"] = True  # answering the survey: not asked again at its next questions
        self._keep(db, inbound.openid, back, data)
        return self._survey_step(db, user, dataclasses.replace(inbound, text=held), held, back, data)

    def _not_an_answer(self, db, inbound: Inbound, text: str, again: str):
        """A story where an answer was expected is a new message: pause the survey and let the intake take it.
        Anything shorter is a wrong answer: ask again."""
        if _is_story(text):
            conversations.delete(db, inbound.openid)
            return None, [Reply(texts.pick("SURVEY_PAUSED_FOR_MESSAGE", users.lang(db, inbound.openid)))]
        return [Reply(again)], []

    def _next(self, db, openid, survey: Survey, unit, row, data) -> list[Reply]:
        lang = users.lang(db, openid)
        row = surveys.get(db, survey.id, unit["code"], openid)
        i = survey.next_question(row["draft"])
        if i is None:
            return self._finish(db, openid, survey, unit, row, data)
        self._keep(db, openid, "answer", data)
        return [Reply(survey.questions[i].prompt(i + 1, len(survey.questions), lang))]

    def _finish(self, db, openid, survey: Survey, unit, row, data) -> list[Reply]:
        lang = users.lang(db, openid)
        now = self.d.clock.now()
        again = row["answers"] is not None
        allowed, rated = surveys.may_rate(db, survey.id, unit["code"], openid, self.p.units_per_person)
        if not allowed:  # begun beside others, the cap reached meanwhile
            surveys.discard_draft(db, row["id"])
            conversations.delete(db, openid)
            return [Reply(self._over_cap(db, openid, survey, unit, rated))]
        if again and self._closed(row, now):  # a redo begun in the month its answers count in, sent after it
            surveys.discard_draft(db, row["id"])
            conversations.delete(db, openid)
            return [Reply(self._counted(lang, row, unit))]
        surveys.submit(db, row["id"], row["draft"], now, bool(data.get("new")))
        conversations.delete(db, openid)
        replies = [Reply(texts.pick("SURVEY_UPDATED" if again else "SURVEY_THANKS", lang).format(unit=unit["name"]))]
        burst = surveys.mark_burst(db, survey.id, unit["code"], now, self.p.burst_per_hour)
        if burst and surveys.record_burst(db, survey.id, unit["code"], int(now // 3600), burst[0]):
            count, aside = burst
            notice = (texts.SURVEY_BURST_NOTICE if aside == count else texts.SURVEY_BURST_NEW_ACCOUNTS).format(
                unit=unit["name"], count=count, title=survey.title, limit=self.p.burst_per_hour, aside=aside,
                kept=count - aside)
            replies += [Reply(notice, to=o) for o in staff.leaders(db)]
        if now - ((users.get(db, openid) or {}).get("first_seen_at") or now) >= surveys.FRESH_SECONDS:
            return replies
        limit = self.p.new_follower_per_day
        # today's (China time): the day a leader rules on, so one ruling covers what the check flagged
        paced = surveys.new_follower_day(db, survey.id, unit["code"], surveys.day_start(now), limit)
        # told once a day: the key is the day, negative so that it never meets an hour's (record_burst)
        if paced and surveys.record_burst(db, survey.id, unit["code"], -surveys.day_of(now), paced[0]):
            notice = {"alike": texts.SURVEY_PACED_LEFT_OUT, "agrees": texts.SURVEY_PACED_AGREES,
                      "varied": texts.SURVEY_PACED_NOTICE}[paced[1]].format(
                unit=unit["name"], count=paced[0], title=survey.title, limit=limit)
            replies += [Reply(notice, to=o) for o in staff.leaders(db)]
        # The same sheet paced under the daily limit over several days (limit − 1 a day escapes any one day):
        # over the whole survey, more than two days' worth from new accounts, nine in ten near-identical, is left
        # out as well; told once per survey and unit (a leader may count a day again: storage.surveys.rule_day)
        spread = surveys.new_follower_day(db, survey.id, unit["code"], survey.opens_at, 2 * limit)
        if spread and spread[1] == "alike" and surveys.record_burst(db, survey.id, unit["code"],
                                                                    surveys.SPREAD_KEY, spread[0]):
            notice = texts.SURVEY_SPREAD_LEFT_OUT.format(unit=unit["name"], count=spread[0], title=survey.title,
                                                         limit=limit)
            replies += [Reply(notice, to=o) for o in staff.leaders(db)]
        return replies

    def _over_cap(self, db, openid: str, survey: Survey, unit: dict, rated: list[str]) -> str:
        """Refused: the person rated as many units in this survey as one person may ([campaign] units_per_person);
        kept in the audit log, so a leader can see who tried to rate more."""
        websessions.audit(db, self.d.clock.now(), openid, "survey:refused", None,
                          f"{survey.id} {unit['code']}: {' '.join(rated)}")
        lang = users.lang(db, openid)
        names = [(directory.get(db, code) or {}).get("name", code) for code in rated]
        sep = ", " if lang == "en" else "、"
        return texts.pick("SURVEY_UNIT_LIMIT", lang).format(cap=self.p.units_per_person, units=sep.join(names),
                                                            unit=unit["name"])

    def _concrete(self, text: str) -> bool:
        """Does a free-text answer describe a matter someone should handle (not a general wish or thanks)?"""
        if len(normalise(text)) < MIN_DESCRIPTION:
            return False
        kind = infer_kind(text)
        if kind == "praise":
            return False
        decision = self.d.routing(text)
        if decision["category"] == "out_of_scope":
            return False
        return kind == "complaint" or decision["confidence"] >= TICKET_CONFIDENCE

    def _on_ticket_offer(self, db, inbound, text, survey: Survey, unit, row, data):
        lang = users.lang(db, inbound.openid)
        n = choice(text, 2) or (1 if text in YES else 2 if text in NO_WORDS else None)
        if n is None:
            return self._not_an_answer(db, inbound, text, texts.pick("CHOOSE_1_2", lang) + "\n"
                                       + texts.pick("SURVEY_OFFER_CHOICES", lang))
        replies: list[Reply] = []
        if n == 1:
            replies += self._ticket(db, inbound.openid, row["draft"].get(data.get("offer")) or "", unit, row)
        data.pop("offer", None)
        return _joined([*replies, *self._next(db, inbound.openid, survey, unit, row, data)]), []

    def _ticket(self, db, openid: str, text: str, unit: dict, row: dict) -> list[Reply]:
        """The free-text answer as a ticket, through the intake's own routing, assignment and submission."""
        lang = users.lang(db, openid)
        services = self.d._intake(db).s
        decision = services.route(text)
        school = unit["code"] if unit["kind"] in ("school", "kindergarten") else None
        kind = infer_kind(text) or "suggestion"
        if kind == "praise":
            kind = "suggestion"
        # anonymous towards the school, as every survey ticket is: never handled by it either (privacy.barred)
        plan = services.plan(decision["category"], school, kind, decision, anonymous=True)
        ticket = services.submit(openid, {"kind": kind, "parts": [text], "attachments": [], "phone": None,
                                          "anonymous": True}, plan)
        surveys.set_ticket(db, row["id"], ticket["number"])
        reply = Reply(texts.pick("SURVEY_TICKET_WAITING" if ticket.get("waits") else "SURVEY_TICKET_CREATED", lang)
                      .format(number=ticket["number"], unit=plan.unit_name, due=plan.due_text))
        return [reply, *services.notices]

    def _on_unit(self, db, user, inbound: Inbound, text: str):
        lang = users.lang(db, inbound.openid)
        if text in ("0", *texts.CANCEL_WORDS) or text in NO_WORDS:
            conversations.delete(db, inbound.openid)
            return [Reply(texts.pick("SURVEY_PAUSED", lang))], []
        code = (self.d.router.find_school(text) or self._find_unit(db, text)
                or self.d._intake(db).s.find_school(text))  # a name in pinyin too, as the intake reads it
        if code is None:
            return self._not_an_answer(db, inbound, text, texts.pick("SURVEY_UNIT_NOT_FOUND", lang))
        now = self.d.clock.now()
        open_ = [s for s in self.p.surveys.values() if s.is_open(now)]
        conversations.delete(db, inbound.openid)
        return self._start_for_unit(db, user, inbound.openid, directory.get(db, code), open_), []

    # -- instant answers: was it enough? ---------------------------------------------------------------------------
    def _faq_feedback(self, db, user, inbound: Inbound, text: str):
        lang = users.lang(db, inbound.openid)
        now = self.d.clock.now()
        conv = conversations.get(db, inbound.openid, now)
        data = conv["data"]
        ttl = self.d.policy.conversation_minutes * 60
        replayed = False
        if conv["state"] == "rating":  # “1” held at “这个回答解决了您的问题吗”: 1 rates the ticket, 2 answers it
            held = data.pop("held", "")
            n = choice(text, 2) or (1 if text in YES else 2 if text in NO_WORDS else None)
            if n is None:
                conversations.put(db, inbound.openid, FAQ, "rating", {**data, "held": held}, now, ttl)
                return [Reply(texts.pick("CHOOSE_1_2", lang) + "\n" + self._ask_rating(db, inbound.openid, held, lang))], []
            if n == 1:
                conversations.put(db, inbound.openid, FAQ, "feedback", data, now, ttl)
                rated = self.d.followup.rate(db, inbound.openid, held, doubtful=True) or []
                return _joined([*rated, Reply(texts.pick("FAQ_ASK", lang))]), []
            data["not_rating"] = True
            conversations.put(db, inbound.openid, FAQ, "feedback", data, now, ttl)
            text, replayed = held, True
        elif self._holds_rating(db, inbound, data):
            conversations.put(db, inbound.openid, FAQ, "rating", data, now, ttl)
            return [Reply(self._ask_rating(db, inbound.openid, data["held"], lang))], []
        if EMOJI_ONLY.fullmatch(text):  # 🙏 / [捂脸]: a feeling, not an answer: the question again, whole
            conversations.put(db, inbound.openid, FAQ, "feedback", data, now, ttl)
            return [Reply(texts.pick("FAQ_ASK", lang))], []
        n = choice(text, 2)
        if n is None and text.lower().strip(" .!") in ("解决了", "已解决", "好的", "谢谢", "明白了", "知道了", "yes", "solved",
                                                        "thanks", "thank you", "got it", "ok", "okay"):
            n = 1
        if n is None and (asks_for_person(text) or bare(text) in ("没有", "没", "不行", "没用")
                          or text.lower().strip(" .!") in ("no", "not really")):
            n = 2
        number = ascii_int(text.rstrip("。.、"), 2) if n is None else None
        closed = number == 0 or bare(text) in FAQ_ENOUGH or text in texts.CANCEL_WORDS  # 0 / 不用了: nothing more
        if n is None and not closed and len(bare(text)) <= 3:  # 是的 / 没有 / 不行: the question answered in a word
            said = yes_no(text)
            n = None if said is None else 1 if said else 2
        if n is None and number is not None and not closed:  # 3: asked again, as at every numbered question
            return [Reply(texts.pick("CHOOSE_1_2", lang) + "\n" + texts.pick("FAQ_ASK", lang))], []
        conversations.delete(db, inbound.openid)
        if closed:
            faq_store.outcome(db, data["answer"], "ignored", now)
            return [Reply(texts.pick("FAQ_CLOSED", lang))], []
        if n == 1:
            faq_store.outcome(db, data["answer"], "solved", now)
            return [Reply(texts.pick("FAQ_SOLVED", lang))], []
        if n == 2:
            faq_store.outcome(db, data["answer"], "human", now)
            return self._to_person(db, user, inbound, data["text"], lang), []
        faq_store.outcome(db, data["answer"], "ignored", now)
        if replayed:  # the held words were said to answer the question, and do not: nothing more to do
            return [Reply(texts.pick("FAQ_CLOSED", lang))], []
        return None, []  # something else: an ordinary message

    def _to_person(self, db, user, inbound: Inbound, question: str, lang: str | None) -> list[Reply]:
        """The question goes on as an ordinary message, as if the instant answer had not been given."""
        now = self.d.clock.now()
        asked = Inbound(openid=inbound.openid, kind="text", created_at=inbound.created_at, text=question,
                        channel=inbound.channel)
        intake = self.d._intake(db)
        state, draft, replies = intake.start(asked, self.d._scene_school(db, user.get("scene")), kind="inquiry")
        if state is not None:
            conversations.put(db, inbound.openid, "intake", state, draft, now, self.d.policy.conversation_minutes * 60)
        return _joined([Reply(texts.pick("FAQ_TO_HUMAN", lang)), *replies, *intake.s.notices])

    def _asked_late(self, db, user, inbound: Inbound, text: str) -> list[Reply] | None:
        """“2 还需要人工答复” once another message came between (the answer's conversation gone, its outcome taken
        as ignored): the latest instant answer, if recent and not settled, goes to a person after all. A bare 2
        while a ticket awaits its rating rates it, as before."""
        now = self.d.clock.now()
        last = faq_store.latest(db, inbound.openid)
        if last is None or last["outcome"] not in (None, "ignored") \
                or last["served_at"] < now - self.d.policy.conversation_minutes * 60:
            return None
        if choice(text, 2) and self._looks_rated(db, inbound.openid, inbound.text):
            return None
        faq_store.asked_late(db, last["id"], now)
        return self._to_person(db, user, inbound, last["question"], users.lang(db, inbound.openid))

    # -- helpers ------------------------------------------------------------------------------------------------
    def _public(self, db, openid: str) -> str:
        lines = [texts.MENU_PUBLIC.format(org=self.d.policy.organisation, commitment=self.d.policy.commitment)]
        user = users.get(db, openid) or {}
        unit = directory.by_scene(db, user["scene"]) if user.get("scene") else None
        if unit and unit.get("commitment"):
            lines.append(texts.MENU_PUBLIC_UNIT.format(unit=unit["name"], text=unit["commitment"]))
        lines.append(texts.MENU_PUBLIC_FOOT)
        base = self.d.policy.public_url
        if base:  # the public pages: the unit the person came through, and every unit
            if unit:
                lines.append(texts.PUBLIC_UNIT_PAGE.format(unit=unit["name"], url=f"{base}/u/{unit['code']}"))
            lines.append(texts.PUBLIC_PAGES.format(url=f"{base}/u/"))
        return "\n".join(lines)

    def _keep(self, db, openid: str, state: str, data: dict[str, Any]) -> None:
        conversations.put(db, openid, SURVEY, state, data, self.d.clock.now(), self.p.conversation_minutes * 60)

    def _today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, self.d.calendar.tz).date()

    def _closed(self, row: dict | None, now: float) -> bool:
        """A person's submitted answers count in the performance review of the month they were sent in
        (review.build: survey_results.period_units by submitted_at); once that month is over a redo would take
        them out of its closed figure (and put them in the new month's), so they stay as they are (audit27)."""
        if not row or row.get("answers") is None or not row.get("submitted_at"):
            return False
        tz = self.d.calendar.tz
        sent, today = dt.datetime.fromtimestamp(row["submitted_at"], tz), dt.datetime.fromtimestamp(now, tz)
        return (sent.year, sent.month) != (today.year, today.month)

    def _counted(self, lang: str | None, row: dict, unit: dict) -> str:
        sent = dt.datetime.fromtimestamp(row["submitted_at"], self.d.calendar.tz)
        month = f"{sent:%B %Y}" if lang == "en" else f"{sent.year}年{sent.month}月"
        return texts.pick("SURVEY_COUNTED", lang).format(date=self._date(lang, sent.date()), unit=unit["name"],
                                                         month=month)

    @staticmethod
    def _date(lang: str | None, day: dt.date) -> str:
        return f"{day.day} {day:%b}" if lang == "en" else f"{day.month}月{day.day}日"


# "我想给学校打个分", "给老师打分": the survey asked for in a person's own words (short: a story is a message).
SURVEY_INTENT = re.compile(r"给(?:学校|幼儿园|老师们?|他们|这个学校|这所学校)?打(?:个)?分|^我?(?:想|要)(?:参加)?(?:评议|测评)")

# At "解决了您的问题吗？": no further answer wanted (0 as at every question that offers it: none, skip).
FAQ_ENOUGH = frozenset({"0", "不用", "不用了", "不需要", "不需要了", "没事了", "算了", "不要了"})


# “还需要人工答复” in a person's words (FAQ_ASK's option 2); at the question itself a plain 没有 / 不行 also says it.
PERSON_WORDS = frozenset({"还需要人工答复", "需要人工答复", "人工", "人工答复", "转人工", "找人工", "要人工", "需要人工", "我要人工",
                          "人工服务", "人工客服", "没解决", "未解决", "没有解决", "还是没解决", "还没解决"})
PERSON_WORDS_EN = frozenset({"a person", "person", "human", "i need a person", "talk to a person"})
_OPTION_2 = re.compile(r"2\s*[、.．:：,，]?\s*(?:还)?需要人工(?:答复)?")  # the option's line copied, 2 and all


def asks_for_person(text: str) -> bool:
    """`text` (normalised) asks for a person to answer, as option 2 of FAQ_ASK does."""
    return (choice(text, 2) == 2 or bare(text) in PERSON_WORDS or bool(_OPTION_2.fullmatch(text))
            or text.lower().strip(" .!") in PERSON_WORDS_EN)


def _is_story(text: str) -> bool:
    """A sentence or more of Chinese where a short answer was expected: a message of its own."""
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= SUPPLEMENT_CHARS or english_words(text) >= 6


def _joined(replies: list[Reply]) -> list[Reply]:
    """What goes back to the sender as one message (one passive reply), followed by the pushes to others."""
    own = [r.text for r in replies if r.to is None]
    return ([Reply("\n\n".join(own))] if own else []) + [r for r in replies if r.to is not None]
