"""The rule extractor's reading of a sentence: tokens, the clauses whose subject is the speaker, object phrases.

A clause starts at a subject ("I", "we", "my mom and I", or nothing before a sentence-initial
verb: "Lost my job yesterday"), skips auxiliaries and adverbs, and points at its main word;
``rules_frames`` reads it from there. Object phrases run from a word to the next punctuation,
clause word or time phrase, minus fillers ("a", "my", "really"); lists split on commas and
"and". Internal to ``engram.llm.rules``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engram.llm import rules_words as words
from engram.llm.rules_when import TimePhrase

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TOKEN = re.compile(r"[A-Za-z]+(?=n't\b)|n't\b|'[A-Za-z]+|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_NAME = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?")

_WORDS = words.word_set
_INTERJECTIONS = _WORDS(
    "yeah yes yep yup oh wow well so also and but plus hey hi haha lol ok okay actually honestly anyway anyways "
    "btw omg aww aw ah ahh hmm um uh sure totally definitely guess what , ! - ..."
)
_IMPLICIT = _WORDS("been gonna wanna just finally recently")
_HYPOTHETICAL = _WORDS("if unless wish whether imagine hope maybe hopefully once")
_BOUNDARY = _WORDS(
    "but so because cause 'cause since while when whenever which who whom whose where if though although than "
    "until unless whether cos coz till how why what he she they it you we after before during"
)
_LEAD = _WORDS(
    "a an the my our some this that these those any all both most many own new really also just actually "
    "finally always totally so very super pretty most definitely even first-ever"
)
_INNER = _WORDS("my our some really just finally actually very totally")
_TRAIL = _WORDS(
    "too also again anymore now once together though ever yet already instead lol haha there here hard originally"
)
# An object that starts with one of these is about someone else, or names nothing.
_FOREIGN = _WORDS(
    "your you his her their its it they he she we them how what why where who whether if way me us him "
    "there here something anything everything nothing stuff things lots more much one ones myself i"
)
_PRONOUNS = _WORDS("it them him her me you us there here something anything everything nothing one so")
_DEMONSTRATIVES = _WORDS("this that these those")
_LIST_WORDS = _WORDS("and or & plus")
_OPENERS = _INTERJECTIONS | _WORDS(
    "and but so then because cause since when while as if after before until that though although once now or "
    "yet cos coz whereas where why how what which who like mean say think guess know hope feel wish bet swear"
)
_PREPOSITIONS = _WORDS("for at with in on from of to by about into near after before")
_JOINERS = _PREPOSITIONS | _WORDS("and or")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    low: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Found:
    """A claim before it has a subject, a source and a time."""

    predicate: str
    object: str
    confidence: float
    object_type: str | None = None
    dated: bool = False
    ahead: bool = False


@dataclass(slots=True)
class _Clause:
    """A clause whose subject is the speaker: the sentence's tokens and where its parts are."""

    tokens: list[_Token]
    timed: list[bool]  # token i lies inside a time phrase
    start: int  # first token of the clause (time phrases before the subject count)
    subject: int  # -1 for a sentence that starts with its verb
    verb: int  # the main word after the subject and its auxiliaries
    end: int
    weight: float
    aux: frozenset[str]
    partner: str | None = None  # "mom" in "my mom and I made dinner"
    times: Sequence[TimePhrase] = ()
    relative: bool = False  # "the figurines I bought": the clause qualifies a noun before it

    @property
    def time(self) -> TimePhrase | None:
        """The clause's first time phrase, else the sentence's only one."""
        if not self.times:
            return None
        begin = self.tokens[self.start].start
        finish = self.tokens[self.end - 1].end
        inside = [p for p in self.times if begin <= p.start < finish]
        return inside[0] if inside else self.times[0] if len(self.times) == 1 else None

    def low(self, i: int) -> str:
        """The lower-cased token ``i``, or "" past either end of the clause's sentence part."""
        return self.tokens[i].low if 0 <= i < self.end else ""

    def at(self, i: int, *seq: str) -> int | None:
        """The index after ``seq`` when the tokens from ``i`` spell it, else None."""
        for offset, word in enumerate(seq):
            if self.low(i + offset) != word:
                return None
        return i + len(seq)


# --- objects -----------------------------------------------------------------------------


def _run(c: _Clause, i: int, *, limit: int, lists: bool = False, likes: bool = False) -> list[_Token]:
    """The tokens of an object phrase from ``i``: up to punctuation, a clause word or a time phrase."""
    out: list[_Token] = []
    for j in range(i, c.end):
        token = c.tokens[j]
        if token.low == '"':
            continue
        if c.timed[j] or len(out) >= limit:
            break
        if not (token.low[0].isalnum() or token.low in ("'s", "&") or (lists and token.low == ",")):
            break
        if out and (token.low in _BOUNDARY or (likes and token.low == "like") or _purpose(c, j)):
            break
        if not lists and token.low in ("and", "or") and out:
            break
        out.append(token)
    return out


def _purpose(c: _Clause, j: int) -> bool:
    """A "to" before a verb ends a noun phrase: "a necklace to feel closer to my faith"."""
    return c.tokens[j].low == "to" and words.is_base(c.low(j + 1))


def _text(tokens: Sequence[_Token], *, tail: bool = False) -> str:
    """Tokens joined as written, minus leading and trailing filler and inner possessives.

    ``tail`` is the rest of a verb phrase, which may start with a preposition ("with the kids").
    """
    begin, end = 0, len(tokens)
    while begin < end and (_leading_filler(tokens[begin]) or _quantifier(tokens, begin)):
        begin += 2 if begin + 1 < end and tokens[begin + 1].low == "of" else 1
    while end > begin and (tokens[end - 1].low in _TRAIL or tokens[end - 1].low in _JOINERS | _LEAD):
        end -= 1
    kept = [t for t in tokens[begin:end] if t.low not in _INNER]
    if not kept or kept[0].low in _FOREIGN or kept[0].low in _BOUNDARY or (kept[0].low in _JOINERS and not tail):
        return ""
    if all(t.low in _FOREIGN or t.low in _JOINERS or t.low == "'s" for t in kept):
        return ""
    return " ".join(t.text for t in kept).replace(" 's", "'s")


def _leading_filler(token: _Token) -> bool:
    """A word to drop from the front of an object; "New" of "New York" is part of a name."""
    return token.low in _LEAD and not (token.low == "new" and token.text[:1].isupper())


def _quantifier(tokens: Sequence[_Token], i: int) -> bool:
    """A quantity word to skip: "few" in "a few talks", "lot of" in "a lot of books"."""
    low = tokens[i].low
    of = i + 1 < len(tokens) and tokens[i + 1].low == "of"
    return low in ("few", "couple", "several") or (of and low in ("lot", "lots", "bunch", "tons", "kind", "sort"))


def _phrase(c: _Clause, i: int, *, limit: int = 6) -> str:
    return _text(_run(c, i, limit=limit))


def _items(c: _Clause, i: int, *, likes: bool = False) -> list[str]:
    """A list object split into items: "reading, watching movies, and hiking" → three."""
    items: list[list[_Token]] = [[]]
    last_separator = ""
    for token in _run(c, i, limit=16, lists=True, likes=likes):
        if token.low in _LIST_WORDS or token.low == ",":
            if items[-1]:
                items.append([])
            last_separator = token.low
        else:
            items[-1].append(token)
    if last_separator == ",":
        items = items[:1]  # no "and" before the last item: the comma ended the object ("a safe, inviting place")
    texts: list[str] = []
    for item in items:
        if not item or len(item) > 6 or item[0].low in _FOREIGN or any(t.low in words.AUX for t in item):
            break  # the list ended and a clause began: "action movies, the effects are so cool"
        if texts and words.is_gerund(items[0][0].low) and not words.is_gerund(item[0].low):
            break  # "sharing my skills and knowledge": the list is inside the first item
        texts.append(_text(item))
    return _share_head([t for t in texts if t])


def _share_head(items: list[str]) -> list[str]:
    """One-word modifiers share the head: "action and sci-fi movies" → "action movies", "sci-fi movies"."""
    if len(items) == 2 and " " not in items[0] and " " in items[1] and not items[0].endswith("ing"):
        return [f"{items[0]} {items[1].rsplit(' ', 1)[1]}", items[1]]
    return items


def _verb_phrases(c: _Clause, i: int, *, past: bool) -> list[str]:
    """A verb phrase from ``i`` (verb included), split at "and" before another verb of the same kind."""
    phrases, start = [], i
    while start < c.end:
        run = _run(c, start, limit=8)
        if not run:
            break
        phrases.append(_verb_text(run))
        nxt = start + len(run)
        if c.low(nxt) != "and" or not _same_kind(c.low(nxt + 1), past):
            break
        start = nxt + 1
    return [p for p in phrases if p]


def _same_kind(word: str, past: bool) -> bool:
    if past:
        return words.is_past(word) and word not in words.NOT_EVENTS
    return words.is_base(word)


def _verb_text(run: list[_Token]) -> str:
    """The verb and what follows it; empty when nothing follows or a pronoun does ("made it", "painted this")."""
    rest = run[1:]
    if not rest or _pronoun(rest):
        return ""
    tail = _text(rest, tail=True)
    return f"{run[0].text} {tail}" if tail else ""


def _pronoun(rest: list[_Token]) -> bool:
    first = rest[0].low
    if first in _PRONOUNS:
        return True
    return first in _DEMONSTRATIVES and (len(rest) == 1 or rest[1].low in _JOINERS)


# --- clauses -------------------------------------------------------------------------------


def _tokens(sentence: str) -> list[_Token]:
    return [_Token(m.group(), m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(sentence)]


def _timed(tokens: list[_Token], times: list[TimePhrase]) -> list[bool]:
    return [any(p.start <= t.start < p.end for p in times) for t in tokens]


def _anchors(tokens: list[_Token]) -> list[tuple[int, float]]:
    """Where the speaker is the subject: ``(index of the subject, weight)``; -1 for a verb-first sentence."""
    found = [(i, 1.0 if t.text == "I" else 0.75) for i, t in enumerate(tokens) if t.text == "I" or t.low == "we"]
    k = 0
    while k < len(tokens) and (tokens[k].low in _INTERJECTIONS or _addressee(tokens, k)):
        k += 1
    if k < len(tokens) and (not found or found[0][0] > k) and _implicit(tokens, k):
        found.insert(0, (k - 1, 0.9))
    return found


def _addressee(tokens: list[_Token], k: int) -> bool:
    """A name followed by a comma or "!" ("Maria, ...") addresses the listener."""
    return k + 1 < len(tokens) and tokens[k + 1].low in (",", "!") and _NAME.fullmatch(tokens[k].text) is not None


def _implicit(tokens: list[_Token], k: int) -> bool:
    low = tokens[k].low
    nxt = tokens[k + 1].low if k + 1 < len(tokens) else ""
    if nxt in ("you", "it", "i", "he", "she", "they", "we", "'s", "'re") or tokens[k].text == "I":
        return False
    return low in _IMPLICIT or (words.is_past(low) and low not in ("loved", "sounded", "looked", "seemed"))


def _clauses(tokens: list[_Token], times: list[TimePhrase]) -> Iterator[_Clause]:
    timed = _timed(tokens, times)
    anchors = _anchors(tokens)
    for n, (subject, weight) in enumerate(anchors):
        end = _clause_end(tokens, anchors[n + 1][0]) if n + 1 < len(anchors) else len(tokens)
        start = 0 if n == 0 else _clause_end(tokens, subject)
        if _hypothetical(tokens[max(0, subject - 3) : max(0, subject)]):
            continue
        verb, aux = _auxiliaries(tokens, subject + 1, end)
        if verb < end:
            relative = _relative_clause(tokens, timed, subject)
            partner = _partner(tokens, subject)
            yield _Clause(tokens, timed, start, subject, verb, end, weight, aux, partner, times, relative)


def _relative_clause(tokens: list[_Token], timed: list[bool], subject: int) -> bool:
    """The subject follows a noun ("the kids I met", "the impact we made"): a relative clause."""
    if subject <= 0 or timed[subject - 1]:
        return False
    before = tokens[subject - 1]
    if not before.low.isalpha() or _NAME.fullmatch(before.text) or before.low in _OPENERS:
        return False
    return before.low not in words.ADVERBS and before.low not in words.NOT_EVENTS and before.low not in words.AUX


def _clause_end(tokens: list[_Token], subject: int) -> int:
    """The clause before a subject ends at it, or at "my mom and" in "my mom and I"."""
    if subject >= 3 and tokens[subject - 1].low == "and" and tokens[subject - 3].low in ("my", "our"):
        return subject - 3
    return subject


def _hypothetical(before: list[_Token]) -> bool:
    return any(t.low in _HYPOTHETICAL for t in before)


def _partner(tokens: list[_Token], subject: int) -> str | None:
    if subject >= 3 and tokens[subject - 1].low == "and" and tokens[subject - 3].low in ("my", "our"):
        word = tokens[subject - 2].low
        return word if word in _RELATION else None
    return None


def _auxiliaries(tokens: list[_Token], i: int, end: int) -> tuple[int, frozenset[str]]:
    """Skips auxiliaries and adverbs after the subject; returns the main word and the kinds seen."""
    kinds: set[str] = set()
    while i < end:
        low = tokens[i].low
        if low in words.AUX:
            kinds.add(words.AUX[low])
        elif low in words.ADVERBS and not (low == "all" and i + 1 < end and tokens[i + 1].low == "about"):
            kinds.add("just" if low == "just" else "adverb")
        else:
            break
        i += 1
    return i, frozenset(kinds)


def _future(c: _Clause) -> bool:
    low, nxt = c.low(c.verb), c.low(c.verb + 1)
    going = low == "going" and (nxt == "to" or words.is_gerund(nxt))  # "going to", "going camping"
    return "will" in c.aux or low == "gonna" or going or _ahead(c)


def _ahead(c: _Clause) -> bool:
    phrase = c.time
    return phrase is not None and phrase.label is None and phrase.ahead is not None


_RELATION: dict[str, str] = {
    **dict.fromkeys(words.PARTNERS, "partner_of"),
    **dict.fromkeys(words.CHILDREN, "has_child"),
    **dict.fromkeys(words.RELATIVES, "has_relative"),
    **dict.fromkeys(words.PETS, "has_pet"),
    **dict.fromkeys(words.FRIENDS, "friend_of"),
}
_RELATION_TYPE = {"has_pet": "pet"}

_TRIP = _WORDS("trip roadtrip vacation holiday visit tour")


def _trip_to(tokens: list[_Token], i: int, end: int) -> bool:
    return any(tokens[j].low in _TRIP and tokens[j + 1].low == "to" for j in range(i, min(i + 4, end - 1)))
