"""The rule extractor's frames: what the main word of a speaker's clause says.

Each frame reads a clause from the word after its main word and yields the claims it finds:
verbs by lemma (``_VERBS``: "love" → ``likes``, "went to" → ``visited``/``attended``), the
complements of "I'm" (``_COMPLEMENTS``: "a shooting guard", "allergic to", "from"), "I have"
and, for any other past-tense verb, ``did``. Internal to ``engram.llm.rules``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from engram.llm import rules_words as words
from engram.llm.rules_clause import (  # the rule extractor's own parts: private names shared on purpose
    _FOREIGN,
    _LEAD,
    _NAME,
    _PREPOSITIONS,
    _RELATION,
    _WORDS,
    _ahead,
    _Clause,
    _Found,
    _future,
    _items,
    _phrase,
    _run,
    _text,
    _trip_to,
    _verb_phrases,
)

# --- frames ------------------------------------------------------------------------------

_Frame = Callable[[_Clause, int], Iterator[_Found]]
_PLACE = "place"


def _likes(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None:
        return  # "I love to help": an attitude, not an object
    negated = "neg" in c.aux
    for item in _items(c, i, likes=True):
        yield _Found("dislikes" if negated else "likes", item, 0.7 if negated else 0.8)


def _dislikes(c: _Clause, i: int) -> Iterator[_Found]:
    if "neg" not in c.aux:
        for item in _items(c, i, likes=True):
            yield _Found("dislikes", item, 0.8)


_PLACE_ENDS = (_PREPOSITIONS - {"of"}) | _WORDS("since because and but")  # "of" stays: "the south of France"


def _place_name(phrase: str) -> str:
    """A place ends where a preposition or conjunction starts: "Berlin with my dog" -> "Berlin"."""
    kept: list[str] = []
    for word in phrase.split():
        if word.lower() in _PLACE_ENDS and kept:
            break
        kept.append(word)
    return " ".join(kept)


def _place(c: _Clause, i: int, predicate: str, *preps: str, dated: bool = False) -> Iterator[_Found]:
    for prep in preps:
        j = c.at(i, prep)
        if j is not None and (obj := _place_name(_phrase(c, j, limit=5))):
            yield _Found(predicate, obj, 0.8, _PLACE, dated=dated)
            return


def _live(c: _Clause, i: int) -> Iterator[_Found]:
    if words.is_past(c.low(c.verb)):
        yield from _did(c, c.verb)
    else:
        yield from _place(c, i, "lives_in", "in")


def _move(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None:
        yield from _place(c, i, "moved_to", "to", dated=True)
    else:
        yield from _did(c, c.verb)


def _visit(c: _Clause, i: int) -> Iterator[_Found]:
    if _future(c):
        yield from _plans(c, c.verb)
    elif obj := _phrase(c, i, limit=5):
        yield _Found("visited", obj, 0.8, _PLACE, dated=True)


def _go(c: _Clause, i: int) -> Iterator[_Found]:
    if _future(c):
        yield from _plans(c, i + 1 if c.low(i) == "to" and words.lemma(c.low(i + 1)) != c.low(i + 1) else c.verb)
        return
    if not words.is_past(c.low(c.verb)) and "been" not in c.aux:
        return  # "I go to the gym": a habit, read by no rule
    if c.at(i, "to") is not None:
        yield from _destination(c, i + 1)
    elif c.at(i, "on") is not None and not _trip_to(c.tokens, i + 1, c.end):
        yield from _did(c, c.verb)  # "went on a tour"; "went on a trip to Oregon" is a visit (``_trips``)
    elif words.is_gerund(c.low(i)):
        yield from _did(c, c.verb)


def _destination(c: _Clause, i: int) -> Iterator[_Found]:
    """Where one went: "went to a pottery workshop" attends an event, "went to Rome" visits a place."""
    if c.at(i, "a", "place", "in") or c.at(i, "this", "place", "in"):
        i += 3  # "a place in London" is London
    obj = _phrase(c, i, limit=5)
    if not obj:
        return
    if _head(obj) in words.EVENTS:
        yield _Found("attended", obj, 0.8, dated=True)
    else:
        yield _Found("visited", obj, 0.7, _PLACE, dated=True)


def _head(phrase: str) -> str:
    """The head noun of a phrase: its last word before any preposition ("meeting" in "council meeting for adoption")."""
    head = ""
    for word in phrase.lower().split():
        if word in _PREPOSITIONS and head:
            break
        head = word
    return head


def _travel(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None and not _future(c):
        yield from _destination(c, i + 1)


def _origin(c: _Clause, i: int) -> Iterator[_Found]:
    j = c.at(i, "up", "in") or c.at(i, "from")
    if j is not None and (obj := _phrase(c, j, limit=4)):
        yield _Found("from", obj, 0.8, _PLACE)


def _work(c: _Clause, i: int) -> Iterator[_Found]:
    if words.is_past(c.low(c.verb)):
        yield from _did(c, c.verb)
        return
    if (j := c.at(i, "as")) is not None and (obj := _phrase(c, j, limit=4)):
        yield _Found("works_as", obj, 0.8)
    elif (j := c.at(i, "at") or c.at(i, "for")) is not None and (obj := _phrase(c, j, limit=5)):
        yield _Found("works_at", obj, 0.7, "organisation")
    elif "be" in c.aux and c.at(i, "on") is not None:
        yield from _did(c, c.verb, confidence=0.4)


def _study(c: _Clause, i: int) -> Iterator[_Found]:
    j = c.at(i, "in") if c.low(c.verb).startswith("major") else i
    if j is not None and (obj := _phrase(c, j, limit=4)):
        yield _Found("studies", obj, 0.8)


def _buy(c: _Clause, i: int) -> Iterator[_Found]:
    if _future(c):
        yield from _plans(c, c.verb)
    elif (obj := _phrase(c, i, limit=5) or _before_subject(c)) and _head(obj) not in _NOT_OWNED:
        yield from _relation_or(c, obj, _Found("owns", obj, 0.7, "thing", dated=True))


_GOT_EVENTS = _WORDS(
    "married engaged promoted hired accepted certified back hurt injured sick ill stuck fired dumped elected "
    "selected chosen picked invited robbed scammed vaccinated baptized baptised divorced"
)
# What one gets without owning it: "I got a pic", "I got some good advice".
_NOT_OWNED = _WORDS(
    "pic pics picture pictures photo photos shot idea ideas chance feeling sense advice tip tips message call "
    "text email news compliment compliments feedback leads lead inspiration opportunity time experience help "
    "support rest sleep lesson lessons result results score offer offers"
)


def _before_subject(c: _Clause) -> str:
    """The noun phrase a relative clause hangs on: "these figurines" in "These figurines I bought"."""
    k = c.subject
    while k > 0 and k > c.subject - 3 and c.tokens[k - 1].low.isalpha() and c.tokens[k - 1].low not in _LEAD:
        k -= 1
    return _text(c.tokens[k : c.subject]) if k < c.subject else ""


def _get(c: _Clause, i: int) -> Iterator[_Found]:
    low = c.low(i)
    if "have" in c.aux:
        yield from _have(c, i)  # "I've got" is "I have"
    elif low in _GOT_EVENTS:
        yield from _did(c, c.verb)
    elif (j := _job_at(c, i)) is not None:
        if obj := _phrase(c, j, limit=5):
            yield _Found("works_at", obj, 0.7, "organisation")
        yield from _did(c, c.verb)
    elif words.is_gerund(c.low(c.verb)) and c.at(i, "ready") is not None:
        yield from _plans(c, i + 2 if c.low(i + 1) == "for" else i + 1, 0.7)  # "getting ready for a comp next month"
    elif low == "to" and words.is_base(c.low(i + 1)):
        yield from _did(c, i + 1)  # "I got to teach people vegan recipes"
    elif low not in _FOREIGN and low not in ("to", "into", "lost", "chance", "so", "really"):
        if obj := _phrase(c, i, limit=5):
            phrase = c.time
            head = _head(obj)
            owned = head in words.OWNABLE or (phrase is not None and phrase.label and head not in _NOT_OWNED)
            yield from _relation_or(c, obj, _Found("owns", obj, 0.6, "thing", dated=True) if owned else None)


def _job_at(c: _Clause, i: int) -> int | None:
    """Where the employer starts in "got a (new) job at the library", else None."""
    for j in range(i, min(i + 4, c.end - 1)):
        if c.low(j) == "job" and c.low(j + 1) in ("at", "with"):
            return j + 2
    return None


def _adopt(c: _Clause, i: int) -> Iterator[_Found]:
    obj = _phrase(c, i, limit=5)
    if obj:
        yield from _relation_or(c, obj, None)
        yield from _did(c, c.verb)


def _attend(c: _Clause, i: int) -> Iterator[_Found]:
    j = c.at(i, "in") if c.low(c.verb).startswith("particip") else i
    if j is not None and (obj := _phrase(c, j, limit=5)) and not _future(c):
        yield _Found("attended", obj, 0.8, dated=True)


def _take(c: _Clause, i: int) -> Iterator[_Found]:
    """Taking someone to an event attends it ("took my kids to a workshop"); "taking a pottery class" studies."""
    for j in range(i, min(i + 5, c.end)):
        if c.low(j) == "to":
            yield from _destination(c, j + 1)
            return
    obj = _phrase(c, i, limit=5)
    if obj.lower().endswith((" class", " classes", " course", " lessons")):
        yield _Found("studies", obj.rsplit(" ", 1)[0], 0.6)
    elif words.is_past(c.low(c.verb)):
        yield from _did(c, c.verb)


def _plans(c: _Clause, i: int, confidence: float = 0.8) -> Iterator[_Found]:
    """A plan from the verb phrase at ``i`` ("to" and "a" are skipped)."""
    if "neg" in c.aux:
        return
    while c.low(i) in ("to", "go", "on", "about", "of"):
        i += 1
    if c.low(i) == "be" and not _np_start(c.low(i + 1)):
        return  # "gonna be awesome" is a forecast, "to be a mom" a plan
    for phrase in _verb_phrases(c, i, past=False) if not _np_start(c.low(i)) else [_phrase(c, i)]:
        if phrase:
            yield _Found("plans", phrase, confidence, dated=True, ahead=True)


def _np_start(word: str) -> bool:
    return word in ("a", "an", "the", "my", "our", "some", "this", "that")


def _plan_to(c: _Clause, i: int) -> Iterator[_Found]:
    low = c.low(c.verb)
    if words.is_past(low) and words.lemma(low) in ("want", "hope", "think", "consider"):
        return  # "I wanted to bring that magic home": a past wish, not a plan
    if c.at(i, "to") is not None or low in ("planning", "considering", "plan") or low.startswith("think"):
        confidence = 0.6 if words.lemma(low) == "want" else 0.8
        if low.startswith("think") and (c.low(i) not in ("about", "of") or not words.is_gerund(c.low(i + 1))):
            return  # "I'm thinking about going camping" plans; "I think about my love for dance" does not
        yield from _plans(c, i, confidence)


def _start(c: _Clause, i: int) -> Iterator[_Found]:
    if words.is_gerund(c.low(c.verb)) and "been" not in c.aux:
        yield from _plans(c, c.verb)  # "I'm starting a dance studio"
    else:
        yield from _did(c, c.verb)


def _look(c: _Clause, i: int) -> Iterator[_Found]:
    if (j := c.at(i, "forward", "to")) is not None:
        yield from _plans(c, j, 0.7)


def _wait(c: _Clause, i: int) -> Iterator[_Found]:
    if "neg" in c.aux and "can" in c.aux and c.at(i, "to") is not None and c.low(i + 1) not in _SEE:
        yield from _plans(replace(c, aux=c.aux - {"neg"}), i, 0.5)


_SEE = _WORDS("see hear know find watch read try")


def _used(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None and c.low(i + 1) not in ("be", "have", "think", "feel"):
        go = c.low(i + 1) == "go" and (words.is_gerund(c.low(i + 2)) or words.is_gerund(c.low(i + 3)))
        yield from _did(c, i + 2 if go else i + 1, confidence=0.5)  # "used to go horseback riding"


def _turn(c: _Clause, i: int) -> Iterator[_Found]:
    if c.low(i).isdigit():
        yield _Found("age", c.low(i), 0.8)


def _marry(c: _Clause, i: int) -> Iterator[_Found]:
    if (name := c.tokens[i].text if i < c.end else "") and _NAME.fullmatch(name):
        yield _Found("partner_of", name, 0.8, "person")
    yield from _did(c, c.verb)


def _did(c: _Clause, i: int, *, confidence: float | None = None) -> Iterator[_Found]:
    """Any other past activity: the verb phrase itself ("ran a charity race for mental health")."""
    if _future(c) or "neg" in c.aux:
        return
    dated = c.time is not None or "just" in c.aux
    weight = confidence if confidence is not None else (0.7 if dated else 0.4)
    for phrase in _verb_phrases(c, i, past=True):
        with_whom = f" with {c.partner}" if c.partner else ""
        yield _Found("did", _RETURNED.sub("", phrase) + with_whom, weight, dated=True)


# "just got back from a road trip", "left for our vacation": the event is the trip.
_RETURNED = re.compile(
    r"^(?:(?:got|came|just got) back from|returned from|left for|leaving for|headed to) (?:an? |the )?", re.I
)


def _generic(c: _Clause, i: int) -> Iterator[_Found]:
    low = c.low(c.verb)
    if low in words.NOT_EVENTS or words.lemma(low) in words.NOT_EVENTS:
        return
    past = words.is_past(low) and "be" not in c.aux
    ongoing = words.is_gerund(low) and ("be" in c.aux or "been" in c.aux) and c.low(i) not in _DOING_WELL
    if ongoing and _ahead(c):
        yield from _plans(c, c.verb)  # "I'm visiting my aunt next week": the present for an arrangement
    elif past or ongoing:
        yield from _did(c, c.verb, confidence=None if past else 0.4)


def _doing(c: _Clause, i: int) -> Iterator[_Found]:
    """An activity: "I'm doing kickboxing"; not "I'm doing my best", "doing great"."""
    if words.is_gerund(c.low(c.verb)) and c.low(i) not in _DOING_WELL and c.low(i + 1) not in _DOING_WELL:
        yield from _did(c, c.verb, confidence=0.4)


def _try(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is None:
        yield from _generic(c, i)  # "trying out new recipes"; "trying to stay positive" is no event


_DOING_WELL = _WORDS(
    "ok okay good great well fine alright better awesome amazing best my something anything nothing stuff "
    "things it this that so pretty really much lots"
)


# --- be and have -------------------------------------------------------------------------

_FAN = _WORDS("fan fans lover")


def _copula(c: _Clause, i: int) -> Iterator[_Found]:
    """What follows "I'm": a job, an identity, an origin, an allergy, a liking or a plan."""
    low = c.low(c.verb)
    if words.is_gerund(low) or low in ("gonna", "going"):
        yield from _progressive(c, c.verb + 1)
    elif low in _COMPLEMENTS:
        yield from _COMPLEMENTS[low](c, c.verb + 1)
    elif low.isdigit() and 0 < int(low) < 120:
        yield _Found("age", low, 0.8)
    elif low in words.IDENTITY and not c.low(c.verb + 1).isalpha():
        yield _Found("is", c.tokens[c.verb].text, 0.7)


def _progressive(c: _Clause, i: int) -> Iterator[_Found]:
    low = c.low(c.verb)
    if low == "gonna":
        yield from _plans(c, i)
        return
    frame = _VERBS.get(words.lemma(low), _generic)
    yield from frame(c, i)


def _noun_complement(c: _Clause, i: int) -> Iterator[_Found]:
    """A noun after "I'm a": "a (big) fan of X", "a shooting guard for the team", "a student"."""
    run = _run(c, i, limit=6)
    for k, token in enumerate(run):
        if token.low in _FAN and c.at(i + k + 1, "of") is not None:
            yield from _likes(c, i + k + 2)
            return
        if token.low in _PREPOSITIONS:
            run = run[:k]
            break
    head = run[-1].low if run else ""
    if head in words.JOBS:
        yield _Found("works_as", _text(run), 0.8)
        yield from _employer(c, i + len(run))
    elif head in words.IDENTITY:
        yield _Found("is", _text(run), 0.7)


def _employer(c: _Clause, i: int) -> Iterator[_Found]:
    j = c.at(i, "at") or c.at(i, "for")
    if j is not None and j < c.end and _NAME.fullmatch(c.tokens[j].text):
        yield _Found("works_at", _phrase(c, j, limit=4), 0.7, "organisation")


def _keen(c: _Clause, i: int) -> Iterator[_Found]:
    low = c.low(c.verb)
    j = i if low == "into" else i + 1  # "into X"; "passionate about X", "all about X", "drawn to X"
    if low == "keen":
        if c.at(i, "on") is not None:
            yield from _plans(c, i + 1, 0.5)  # "keen on counseling": an intention more than a taste
    elif c.low(i) in ("about", "with", "to", "on") or low == "into":
        yield from _likes(c, j)


def _allergic(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None and "neg" not in c.aux:
        for item in _items(c, i + 1):
            yield _Found("allergic_to", item, 0.9)


def _excited(c: _Clause, i: int) -> Iterator[_Found]:
    if c.at(i, "to") is not None:
        yield from _plans(c, i, 0.5)
    elif c.at(i, "for") is not None and _ahead(c) and (obj := _phrase(c, i + 1)):
        yield _Found("plans", obj, 0.5, dated=True, ahead=True)  # "stoked for my game next month"


def _partnered(c: _Clause, i: int) -> Iterator[_Found]:
    j = c.at(i, "to")
    if j is not None and j < c.end and _NAME.fullmatch(c.tokens[j].text):
        yield _Found("partner_of", c.tokens[j].text, 0.8, "person")
    elif "neg" not in c.aux:
        yield _Found("is", c.low(c.verb), 0.7)


_COMPLEMENTS: dict[str, _Frame] = {
    "a": _noun_complement,
    "an": _noun_complement,
    "from": lambda c, i: iter([_Found("from", o, 0.8, _PLACE)] if (o := _phrase(c, i, limit=4)) else []),
    "allergic": _allergic,
    "into": _keen,
    "passionate": _keen,
    "obsessed": _keen,
    "crazy": _keen,
    "drawn": _keen,
    "all": _keen,
    "keen": _keen,
    "based": lambda c, i: _place(c, i, "lives_in", "in"),
    "born": lambda c, i: _place(c, i, "from", "in"),
    "married": _partnered,
    "engaged": _partnered,
    "off": lambda c, i: _plans(c, i + 1) if c.at(i, "to") is not None else iter(()),
    "about": lambda c, i: _plans(c, i + 1) if c.at(i, "to") is not None else iter(()),
    "excited": _excited,
    "stoked": _excited,
    "eager": _excited,
    "ready": _excited,
    "busy": lambda c, i: _generic(replace(c, verb=i), i + 1) if words.is_gerund(c.low(i)) else iter(()),
}


def _have(c: _Clause, i: int) -> Iterator[_Found]:
    """What one has: "a dog named Pico", "two kids", "a peanut allergy", "a tournament next week" (a plan)."""
    if "neg" in c.aux or "modal" in c.aux:
        return
    j = i + 1 if c.low(i) in ("a", "an", "two", "three", "four", "some", "my") else i
    if c.at(j, "love", "for") or c.at(j, "love", "of") or c.at(j, "passion", "for"):
        yield from _likes(c, j + 2)
        return
    obj = _phrase(c, i, limit=5)
    head = obj.rsplit(" ", 1)[-1].lower() if obj else ""
    if head == "allergy":
        yield _Found("allergic_to", obj.rsplit(" ", 1)[0], 0.8)
    elif head in words.EVENTS and c.time is not None:
        yield from _plans(c, i) if _ahead(c) else iter([_Found("attended", obj, 0.6, dated=True)])
    elif obj:
        yield from _relation_or(c, obj, _Found("owns", obj, 0.5, "thing") if head in words.OWNABLE else None)


def _relation_or(c: _Clause, obj: str, otherwise: _Found | None) -> Iterator[_Found]:
    """A relation when ``obj`` names one ("a dog named Pico", "two kids"), else ``otherwise``."""
    parts = obj.split()
    for k, part in enumerate(parts):
        predicate = _RELATION.get(part.lower())
        if predicate is None:
            continue
        rest = parts[k + 1 :]
        if rest[:1] in (["named"], ["called"]) and len(rest) > 1 and _NAME.fullmatch(rest[1]):
            yield _Found(predicate, rest[1], 0.8, "pet" if predicate == "has_pet" else "person")
        elif predicate != "friend_of":
            yield _Found(predicate, part.lower(), 0.7)
        return
    if otherwise is not None:
        yield otherwise


_VERBS: dict[str, _Frame] = {
    "love": _likes,
    "like": _likes,
    "enjoy": _likes,
    "adore": _likes,
    "prefer": _likes,
    "hate": _dislikes,
    "dislike": _dislikes,
    "detest": _dislikes,
    "live": _live,
    "move": _move,
    "relocate": _move,
    "visit": _visit,
    "go": _go,
    "travel": _travel,
    "fly": _travel,
    "come": _origin,
    "grow": _origin,
    "work": _work,
    "study": _study,
    "major": _study,
    "buy": _buy,
    "purchase": _buy,
    "get": _get,
    "adopt": _adopt,
    "attend": _attend,
    "participate": _attend,
    "take": _take,
    "plan": _plan_to,
    "hope": _plan_to,
    "want": _plan_to,
    "intend": _plan_to,
    "aim": _plan_to,
    "think": _plan_to,
    "consider": _plan_to,
    "wanna": _plans,
    "gonna": _plans,
    "start": _start,
    "do": _doing,
    "try": _try,
    "look": _look,
    "wait": _wait,
    "use": _used,
    "used": _used,
    "turn": _turn,
    "marry": _marry,
}


def _read(c: _Clause) -> Iterator[_Found]:
    """The claims of one clause, by the frame of its main word."""
    if "modal" in c.aux or ("can" in c.aux and c.low(c.verb) != "wait"):
        return
    if c.relative:
        if words.lemma(c.low(c.verb)) in ("buy", "purchase"):
            yield from _buy(c, c.verb + 1)  # "These figurines I bought yesterday"
        return
    low = c.low(c.verb)
    frame = _VERBS.get(words.lemma(low))
    if ("be" in c.aux or "been" in c.aux) and (frame is None or words.is_gerund(low)):
        yield from _copula(c, c.verb + 1) if "been" not in c.aux or c.low(c.verb) != "to" else _been_to(c)
    elif "have" in c.aux and frame is None and not words.is_past(low):
        yield from _have(c, c.verb)
    else:
        yield from (frame or _generic)(c, c.verb + 1)


def _been_to(c: _Clause) -> Iterator[_Found]:
    if "neg" not in c.aux and (obj := _phrase(c, c.verb + 1, limit=5)):
        yield _Found("visited", obj, 0.7, _PLACE, dated=True)
