"""When a stated event happened: time phrases of an utterance resolved to ISO labels.

``time_phrases(text, day)`` finds the time phrases of ``text`` and resolves each against
``day`` (the utterance's date) to the label the fact vocabulary uses: an ISO date
(``2023-05-07``), ISO week (``2023-W22``), month (``2023-06``) or year (``2022``). A phrase
that names no recoverable time ("a few years ago", "recently") is still found, with no label,
so the rule extractor can cut it out of an object phrase.

Each phrase has two readings: ``label`` for a past or present event and ``ahead`` for a plan.
A phrase that points one way has no reading the other way ("yesterday" plans nothing, "next
week" dates no past event); the two differ where the words do not say the direction: "on
Friday", "in May", "this Friday", "over the weekend".

Choices: "last week" is the ISO week before ``day``'s; "last weekend" / "this past weekend"
is the ISO week of the most recent Sunday strictly before ``day``; "last Friday" is the most
recent Friday strictly before ``day``; "two weeks ago" is the ISO week of ``day`` minus 14
days (months and years alike); seasons are northern and meteorological (summer = June to
August) and resolve to a year, winter to nothing (it spans two); "a few" and "several" are no
number. These labels are not windows: recall's time cues live in ``engram.cognition.timecues``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["TimePhrase", "iso_week", "time_phrases"]

_MONTH_NAMES = "january february march april may june july august september october november december".split()
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())} | {"sept": 9})
_WEEKDAYS = {name: i for i, name in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_WEEKDAYS.update({"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5})
_NUMBERS = {"a": 1, "an": 1, "one": 1, "couple": 2, "a couple": 2, "a couple of": 2, "couple of": 2}
_NUMBERS.update({w: i for i, w in enumerate("two three four five six seven eight nine ten eleven twelve".split(), 2)})
_SEASON_MONTHS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11)}

_NUM = r"(?:\d{1,2}|a couple(?: of)?|couple of|a few|few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_UNIT = r"(?:day|weekend|week|month|year)s?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat)"
_MONTH = r"(?:" + "|".join(_MONTH_NAMES) + r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_PHRASE = re.compile(
    r"\b(?:"
    r"(?P<dayword>the day before yesterday|yesterday|last night|earlier today|today|tonight|tomorrow|"
    r"this (?:morning|afternoon|evening))"
    rf"|(?P<ago>(?P<ago_n>{_NUM}) (?P<ago_unit>{_UNIT}) ago)"
    rf"|(?P<ahead>in (?P<in_n>{_NUM}) (?P<in_unit>{_UNIT}))"
    r"|(?P<rel>(?P<which>last|this past|the past|past|this|next|(?:later|earlier) this|the coming|coming) "
    rf"(?P<what>weekend|week|month|year|summer|spring|fall|autumn|winter|{_WEEKDAY}))"
    r"|(?P<weekend>over the weekend|on the weekend|the weekend)"
    rf"|(?P<on_wd>on (?P<wd>{_WEEKDAY}))"
    rf"|(?P<mdy>(?:on )?(?P<md_m>{_MONTH})\.? (?P<md_d>{_DAY})(?:,? (?P<md_y>{_YEAR}))?)"
    rf"|(?P<dmy>(?:on )?(?:the )?(?P<dm_d>{_DAY}) (?:of )?(?P<dm_m>{_MONTH})(?:,? (?P<dm_y>{_YEAR}))?)"
    rf"|(?P<my>(?:in )?(?P<my_m>{_MONTH}),? (?P<my_y>{_YEAR}))"
    rf"|(?P<in_month>in (?P<im>{_MONTH}))"
    rf"|(?P<year>(?:back in|in|since|during|of) (?P<y>{_YEAR}))"
    r"|(?P<vague>recently|lately|the other day|a while ago|a while back|years ago|back then|these days|right now|"
    r"at the moment|nowadays)"
    r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TimePhrase:
    """A time phrase at ``text[start:end]``; ``label`` reads it as past, ``ahead`` as future (None: no time)."""

    start: int
    end: int
    label: str | None
    ahead: str | None


def iso_week(day: date) -> str:
    """The ISO week label of ``day``: ``2023-W22``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _month_label(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def _number(text: str) -> int | None:
    text = text.lower()
    return int(text) if text.isdigit() else _NUMBERS.get(text)


def _shift(day: date, n: int, unit: str) -> str:
    """``day`` moved by ``n`` units, labelled at the unit's granularity."""
    if unit.startswith("day"):
        return (day + timedelta(days=n)).isoformat()
    if unit.startswith("week"):  # a weekend counts as its week
        return iso_week(day + timedelta(weeks=n))
    if unit.startswith("month"):
        return _month_label(day, n)
    return str(day.year + n)


def _weekday(day: date, name: str, ahead: bool, strict: bool = True) -> str:
    """The most recent (or, ``ahead``, the next) weekday ``name`` strictly before (after) ``day``."""
    target = _WEEKDAYS[name.lower()]
    if ahead:
        delta = (target - day.weekday()) % 7 or (7 if strict else 0)
        return (day + timedelta(days=delta)).isoformat()
    delta = (day.weekday() - target) % 7 or (7 if strict else 0)
    return (day - timedelta(days=delta)).isoformat()


def _last_weekend(day: date) -> str:
    return iso_week(day - timedelta(days=day.weekday() + 1 if day.weekday() < 6 else 7))


def _season(day: date, name: str, which: str) -> str | None:
    if name not in _SEASON_MONTHS:
        return None  # winter spans two years
    first, last = _SEASON_MONTHS[name]
    if which == "last":
        return str(day.year if day.month > last else day.year - 1)
    if which == "next":
        return str(day.year if day.month < first else day.year + 1)
    return str(day.year)


def _dayword(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    word = m["dayword"].lower()
    offset = {"the day before yesterday": -2, "yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
    return _directed((day + timedelta(days=offset)).isoformat(), offset)


def _directed(label: str | None, direction: int) -> tuple[str | None, str | None]:
    """``(label, ahead)`` for a phrase that points to the past (< 0), the future (> 0) or now (0)."""
    return (None if direction > 0 else label), (None if direction < 0 else label)


def _ago(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    n = _number(m["ago_n"])
    return (None if n is None else _shift(day, -n, m["ago_unit"].lower())), None


def _in_n(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    n = _number(m["in_n"])
    return None, None if n is None else _shift(day, n, m["in_unit"].lower())


def _relative(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    which, what = m["which"].lower(), m["what"].lower()
    which = {"this past": "last", "the past": "last", "past": "last", "the coming": "next", "coming": "next"}.get(
        which, which.split()[-1]
    )
    direction = {"last": -1, "this": 0, "next": 1}[which]
    if what in ("week", "month", "year"):
        return _directed(_shift(day, direction, what), direction)
    if what == "weekend":
        label = _last_weekend(day) if which == "last" else _shift(day, int(which == "next"), "week")
        return _directed(label, direction)
    if what in ("summer", "spring", "fall", "autumn", "winter"):
        return _directed(_season(day, what, which), direction)
    if direction:
        return _directed(_weekday(day, what, ahead=direction > 0), direction)
    return _weekday(day, what, ahead=False, strict=False), _weekday(day, what, ahead=True, strict=False)


def _weekend(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    past = iso_week(day) if day.weekday() >= 5 else _last_weekend(day)
    return past, iso_week(day)


def _on_weekday(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    return _weekday(day, m["wd"], ahead=False), _weekday(day, m["wd"], ahead=True)


def _dated(day: date, month: int, day_of_month: int, year: str | None) -> tuple[str | None, str | None]:
    try:
        if year is not None:
            label = date(int(year), month, day_of_month).isoformat()
            return label, label
        this_year = date(day.year, month, day_of_month)
        past = this_year if this_year <= day else date(day.year - 1, month, day_of_month)
        ahead = this_year if this_year >= day else date(day.year + 1, month, day_of_month)
    except ValueError:  # 31 June, 29 February of a common year: no such day
        return None, None
    return past.isoformat(), ahead.isoformat()


def _mdy(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    return _dated(day, _MONTHS[m["md_m"].lower()], int(m["md_d"].rstrip("stndrh")), m["md_y"])


def _dmy(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    return _dated(day, _MONTHS[m["dm_m"].lower()], int(m["dm_d"].rstrip("stndrh")), m["dm_y"])


def _month_year(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    label = f"{m['my_y']}-{_MONTHS[m['my_m'].lower()]:02d}"
    return label, label


def _in_month(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    month = _MONTHS[m["im"].lower()]
    past = day.year if month <= day.month else day.year - 1
    ahead = day.year if month >= day.month else day.year + 1
    return f"{past}-{month:02d}", f"{ahead}-{month:02d}"


def _year(m: re.Match[str], day: date) -> tuple[str | None, str | None]:
    return m["y"], m["y"]


_Resolver = Callable[[re.Match[str], date], "tuple[str | None, str | None]"]
_RESOLVERS: dict[str, _Resolver] = {
    "dayword": _dayword,
    "ago": _ago,
    "ahead": _in_n,
    "rel": _relative,
    "weekend": _weekend,
    "on_wd": _on_weekday,
    "mdy": _mdy,
    "dmy": _dmy,
    "my": _month_year,
    "in_month": _in_month,
    "year": _year,
    "vague": lambda m, day: (None, None),
}


def time_phrases(text: str, day: date) -> list[TimePhrase]:
    """The time phrases of ``text`` in order, resolved against ``day``."""
    found = []
    for m in _PHRASE.finditer(text):
        label, ahead = _RESOLVERS[m.lastgroup or "vague"](m, day)
        found.append(TimePhrase(m.start(), m.end(), label, ahead))
    return found
