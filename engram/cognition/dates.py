"""Calendar windows read from date phrases: the vocabulary, the regex pieces, the date
arithmetic and the rule table that ``timecues`` scans a query with.

Each rule is a compiled pattern and a function from its match and ``at`` to a half-open
window ``(since, until)`` (either end may be ``None``); the choices each rule makes are
documented in ``engram.cognition.timecues``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TypeAlias

_Bounds: TypeAlias = "tuple[datetime | None, datetime | None]"

# --- vocabulary -------------------------------------------------------------------------

_MONTH_NAMES = "january february march april may june july august september october november december".split()
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS.update({name[:3]: i for name, i in _MONTHS.items()})
_MONTHS["sept"] = 9
_WEEKDAYS = {name: i for i, name in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "couple": 2, "few": 3, "several": 3,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month of each
_PARTS = {"early": (1, 11), "beginning": (1, 11), "start": (1, 11), "mid": (11, 21), "middle": (11, 21)}
_YEAR_PARTS = {"early": (1, 5), "beginning": (1, 5), "start": (1, 5), "mid": (5, 9), "middle": (5, 9)}

# --- regex pieces -------------------------------------------------------------------------

_FULL_MONTH = "(?:" + "|".join(_MONTH_NAMES) + ")"
_ANY_MONTH = r"(?:" + "|".join(_MONTH_NAMES) + r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\d:%])"
_YEAR = r"(?:19|20)\d\d(?!\d)"
_NUM = (
    r"(?:\d{1,3}|a\s+couple\s+of|a\s+couple|couple\s+of|a\s+few|few|several|an?|"
    + "|".join(w for w in _NUMBER_WORDS if w not in ("a", "an", "couple", "few", "several"))
    + ")"
)
_UNIT = r"(?:day|week|month|year)s?\b"
_WEEKDAY = "(?:" + "|".join(_WEEKDAYS) + r")\b"
_SEASON = "(?:" + "|".join(_SEASONS) + r")\b"
_YEAR_AFTER = rf"(?:,\s*|\s+){_YEAR}"  # "May 3 2023", "May 3, 2023", "May 3,2023"
_MDY = rf"{_ANY_MONTH}\s+{_DAY}(?:{_YEAR_AFTER})?"
_DMY = rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_ANY_MONTH}(?:{_YEAR_AFTER})?"
_DATE = rf"(?:{_MDY}|{_DMY}|{_ANY_MONTH}{_YEAR_AFTER}|{_FULL_MONTH}|{_YEAR})"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_NAME_AFTER = re.compile(r"\s+(?!I\b)[A-Z]")
_SENTINEL = "\x1f"  # replaces consumed text: not a word, not a space, so no later rule spans it
_TRIGGER = _rx(
    r"\d|\b(?:" + "|".join(_MONTH_NAMES) + r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|"
    r"\w+day|yesterday|today|tonight|tomorrow|ago|week\w*|month\w*|year\w*|night|morning|afternoon|evening|"
    r"recent\w*|lately|first|last|earliest|latest|before|after|since|until|till|prior|"
    r"summer|winter|spring|fall|autumn)\b"
)


# --- date arithmetic -------------------------------------------------------------------


def _add_months(d: date, months: int) -> date:
    """``d`` moved by whole months, the day clamped to the target month's length (31 Mar - 1 = 28 Feb)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, _month_length(year, month + 1)))


def _month_length(year: int, month: int) -> int:
    return ((date(year + month // 12, month % 12 + 1, 1)) - date(year, month, 1)).days


def _shift(d: date, n: int, unit: str) -> date:
    if unit == "month":
        return _add_months(d, n)
    if unit == "year":
        return _add_months(d, 12 * n)
    return d + timedelta(days=n * _UNIT_DAYS[unit])


def _at_day(d: date, tz: tzinfo | None, hour: int = 0) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=tz)


def _days(start: date, end: date, at: datetime) -> _Bounds:
    return _at_day(start, at.tzinfo), _at_day(end, at.tzinfo)


def _month_window(year: int, month: int, at: datetime) -> _Bounds:
    start = date(year, month, 1)
    return _days(start, _add_months(start, 1), at)


def _recent_month_year(month: int, at: datetime) -> int:
    """The year of the most recent ``month`` that has begun by ``at``."""
    return at.year if month <= at.month else at.year - 1


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


# --- value readers ---------------------------------------------------------------------


def _number(text: str) -> int:
    words = text.lower().split()
    if words[0].isdigit():
        return int(words[0])
    key = words[1] if words[0] == "a" and len(words) > 1 else words[0]
    return _NUMBER_WORDS[key]


def _unit(text: str) -> str:
    return text.lower().rstrip("s")


def _month(text: str) -> int:
    return _MONTHS[text.lower().rstrip(".")]


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


_DATE_PARTS = _rx(
    rf"(?:(?P<m1>{_ANY_MONTH})\s+(?P<d1>{_DAY})|(?:the\s+)?(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_ANY_MONTH})"
    rf"|(?P<m3>{_ANY_MONTH}))?,?\s*(?P<y>{_YEAR})?"
)


def _date_window(text: str, at: datetime, year: int | None = None) -> _Bounds | None:
    """The window of an absolute date phrase (a day, a month or a year); ``year`` fills a missing one."""
    m = _DATE_PARTS.fullmatch(text.strip())
    if m is None or not m.group(0).strip():
        return None
    y = int(m["y"]) if m["y"] else year
    month_text = m["m1"] or m["m2"] or m["m3"]
    if month_text is None:
        return _days(date(y, 1, 1), date(y + 1, 1, 1), at) if y else None
    month = _month(month_text)
    day_text = m["d1"] or m["d2"]
    if day_text is None:
        return _month_window(y if y else _recent_month_year(month, at), month, at)
    return _day_window(y, month, _day(day_text), at)


def _day_window(year: int | None, month: int, day: int, at: datetime) -> _Bounds | None:
    """One calendar day; without a year, the most recent such day not after ``at``'s date."""
    for y in [year] if year else range(at.year, at.year - 9, -1):  # 29 February falls back to a leap year
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if year or d <= at.date():
            return _days(d, d + timedelta(days=1), at)
    return None


# --- rules: each returns a window for a match, or None to leave the text alone ---------

_Rule: TypeAlias = "Callable[[re.Match[str], datetime], _Bounds | None]"


def _rule_day_range(m: re.Match[str], at: datetime) -> _Bounds | None:
    """ "between 11 and 15 August 2023": both days share the month and year."""
    tail = f"{m['m']} {m['y'] or ''}"
    return _span(_date_window(f"{m['d1']} {tail}", at), _date_window(f"{m['d2']} {tail}", at))


def _rule_range(m: re.Match[str], at: datetime) -> _Bounds | None:
    """ "between August 11 and August 15 2023": the first date takes the second's year when it has none."""
    last = _date_window(m["b"], at)
    year = last[0].year if last and last[0] else None
    first = _date_window(m["a"], at, year)
    if year and first and first[0] and last and last[0] and first[0] > last[0]:
        first = _date_window(m["a"], at, year - 1)
    return _span(first, last)


def _span(first: _Bounds | None, last: _Bounds | None) -> _Bounds | None:
    if first is None or last is None or first[0] is None or last[1] is None or first[0] >= last[1]:
        return None
    return first[0], last[1]


def _rule_date(m: re.Match[str], at: datetime) -> _Bounds | None:
    return _date_window(m["date"], at)


def _rule_iso(m: re.Match[str], at: datetime) -> _Bounds | None:
    return _day_window(int(m["y"]), int(m["mo"]), int(m["d"]), at)


def _rule_month_part(m: re.Match[str], at: datetime) -> _Bounds | None:
    month = _month(m["m"])
    year = int(m["y"]) if m["y"] else _recent_month_year(month, at)
    length = _month_length(year, month)
    if m["half"]:
        first_day, last_day = (1, 16) if m["half"].lower() == "first" else (16, length + 1)
    elif m["nth"]:
        first_day = length - 6 if m["nth"].lower() == "last" else 7 * _ORDINALS[m["nth"].lower()] - 6
        last_day = min(first_day + 7, length + 1)
    else:
        first_day, last_day = _PARTS.get((m["part"] or m["part2"]).lower(), (21, length + 1))
    if first_day > length:
        return None
    return _days(date(year, month, first_day), date(year, month, last_day - 1) + timedelta(days=1), at)


def _rule_year_part(m: re.Match[str], at: datetime) -> _Bounds | None:
    year = int(m["y"])
    first, last = _YEAR_PARTS.get((m["part"] or m["part2"]).lower(), (9, 13))
    return _days(date(year, first, 1), _add_months(date(year, 1, 1), last - 1), at)


def _rule_season(m: re.Match[str], at: datetime) -> _Bounds | None:
    if _NAME_AFTER.match(m.string, m.end()):  # "in the Spring Fling Market" is a name, not a season
        return None
    first_month = _SEASONS[(m["s"] or m["s2"]).lower()]
    explicit = m["y"] or m["y2"]
    year = int(explicit) if explicit else _season_year(first_month, (m["rel"] or "").lower(), at.date())
    start = date(year, first_month, 1)
    return _days(start, _add_months(start, 3), at)


def _season_year(first_month: int, rel: str, today: date) -> int:
    """The year a season starts in: last = latest ended, next = first to start, this = current or coming."""

    def start(y: int) -> date:
        return date(y, first_month, 1)

    year = today.year + 1
    if rel in ("last", "past", "previous"):
        while _add_months(start(year), 3) > today:
            year -= 1
    elif rel == "next":
        year = today.year - 1
        while start(year) <= today:
            year += 1
    elif rel == "this":
        containing = [y for y in (today.year - 1, today.year) if start(y) <= today < _add_months(start(y), 3)]
        year = containing[0] if containing else today.year
    else:
        while start(year) > today:
            year -= 1
    return year


def _rule_day_word(m: re.Match[str], at: datetime) -> _Bounds | None:
    word = " ".join(m["w"].lower().split())
    today = at.date()
    offsets = {"the day before yesterday": -2, "yesterday": -1, "today": 0, "tomorrow": 1}
    if word in offsets:
        d = today + timedelta(days=offsets[word])
        return _days(d, d + timedelta(days=1), at)
    hours = {"last night": (-1, 18, 30), "tonight": (0, 18, 30), "this morning": (0, 0, 12)}
    hours.update({"this afternoon": (0, 12, 18), "this evening": (0, 18, 24)})
    offset, first_hour, last_hour = hours[word]
    start = _at_day(today + timedelta(days=offset), at.tzinfo, first_hour)
    return start, start + timedelta(hours=last_hour - first_hour)


def _rule_ago(m: re.Match[str], at: datetime) -> _Bounds | None:
    n, unit = _number(m["n"]), _unit(m["u"])
    centre = _shift(at.date(), -n, unit)
    half = max(1, int(_UNIT_DAYS[unit] * max(n / 4, 0.5) + 0.5))
    return _days(centre - timedelta(days=half), centre + timedelta(days=half + 1), at)


def _rule_past_n(m: re.Match[str], at: datetime) -> _Bounds | None:
    if not (m["the"] or m["n"]):  # "last month" without "the" or a count is the calendar month
        return None
    n = _number(m["n"]) if m["n"] else 1
    return _days(_shift(at.date(), -n, _unit(m["u"])), at.date() + timedelta(days=1), at)


def _rule_recent_units(m: re.Match[str], at: datetime) -> _Bounds | None:
    return _days(_shift(at.date(), -3, _unit(m["u"])), at.date() + timedelta(days=1), at)


def _period_start(unit: str, d: date) -> date:
    if unit == "week":
        return _monday(d)
    return date(d.year, d.month, 1) if unit == "month" else date(d.year, 1, 1)


def _rule_calendar(m: re.Match[str], at: datetime) -> _Bounds | None:
    unit = m["u"].lower()
    step = {"last": -1, "previous": -1, "past": -1, "this": 0, "next": 1}[m["rel"].lower()]
    start = _shift(_period_start(unit, at.date()), step, unit)
    return _days(start, _shift(start, 1, unit), at)


def _rule_earlier_this(m: re.Match[str], at: datetime) -> _Bounds | None:
    return _days(_period_start(m["u"].lower(), at.date()), at.date() + timedelta(days=1), at)


def _rule_weekend(m: re.Match[str], at: datetime) -> _Bounds | None:
    rel = " ".join((m["rel"] or "").lower().split())
    monday = _monday(at.date())
    if rel in ("this", "next"):
        saturday = monday + timedelta(days=5 if rel == "this" else 12)
    elif rel == "the" and at.weekday() >= 5:  # "over the weekend" said on a weekend: this one
        saturday = monday + timedelta(days=5)
    else:
        saturday = monday - timedelta(days=2)
    return _days(saturday, saturday + timedelta(days=2), at)


def _rule_weekday(m: re.Match[str], at: datetime) -> _Bounds | None:
    weekday, rel, today = _WEEKDAYS[m["wd"].lower()], m["rel"].lower(), at.date()
    if rel == "this":
        d = _monday(today) + timedelta(days=weekday)
    elif rel == "next":
        d = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    else:
        d = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
    return _days(d, d + timedelta(days=1), at)


def _rule_month(m: re.Match[str], at: datetime) -> _Bounds | None:
    first = _month_by_rel(_month(m["m"]), m["rel"].lower(), at)
    if not m["m2"]:
        return first
    last = _month_by_rel(_month(m["m2"]), m["rel"].lower(), at)  # "in January and March": both, and between
    return _span(first, last) or _span(last, first)


def _month_by_rel(month: int, rel: str, at: datetime) -> _Bounds:
    if rel == "last":
        year = at.year if month < at.month else at.year - 1
    elif rel == "next":
        year = at.year if month > at.month else at.year + 1
    else:
        year = at.year if rel == "this" else _recent_month_year(month, at)
    return _month_window(year, month, at)


def _rule_year(m: re.Match[str], at: datetime) -> _Bounds | None:
    year = int(m["y"])
    return _days(date(year, 1, 1), date(year + 1, 1, 1), at)


_IN = r"(?:\b(?:in|during|throughout|over|around|at|on)\s+)?"
_RULES: tuple[tuple[re.Pattern[str], _Rule], ...] = (
    (_rx(rf"\b(?:between|from)\s+(?:the\s+)?(?P<d1>{_DAY})\s+(?:and|to|-)\s+(?:the\s+)?(?P<d2>{_DAY})\s+(?:of\s+)?"
         rf"(?P<m>{_ANY_MONTH})(?:(?:,\s*|\s+)(?P<y>{_YEAR}))?"), _rule_day_range),
    (_rx(rf"\b(?:between|from)\s+(?P<a>{_DATE})\s+(?:and|to|until|till|through)\s+(?P<b>{_DATE})"), _rule_range),
    (_rx(r"(?:\bon\s+)?\b(?P<y>(?:19|20)\d\d)[-/](?P<mo>[01]?\d)[-/](?P<d>[0-3]?\d)\b"), _rule_iso),
    (_rx(rf"{_IN}(?:(?P<part>early|mid|late)[-\s]+|(?:the\s+)?(?P<part2>beginning|start|middle|end)\s+of\s+|"
         rf"the\s+(?P<nth>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th)\s+week\s+of\s+|"
         rf"the\s+(?P<half>first|second)\s+half\s+of\s+)"
         rf"(?:the\s+month\s+of\s+)?(?P<m>{_ANY_MONTH})(?:(?:,\s*|\s+)(?P<y>{_YEAR}))?"), _rule_month_part),
    (_rx(rf"{_IN}(?:(?P<part>early|mid|late)[-\s]+|(?:the\s+)?(?P<part2>beginning|start|middle|end)\s+of\s+)"
         rf"(?P<y>{_YEAR})"), _rule_year_part),
    (_rx(rf"(?:\bon\s+)?\b(?P<date>{_MDY}|{_DMY})"), _rule_date),
    (_rx(rf"{_IN}\b(?P<date>{_ANY_MONTH}(?:,\s*|\s+)(?:of\s+)?{_YEAR})"), _rule_date),
    (_rx(rf"\b(?:(?:(?:the\s+|this\s+)?(?P<rel>last|this|next|past|previous)\s+|(?:in|during|over|throughout)\s+"
         rf"(?:the\s+)?)(?P<s>{_SEASON})(?:\s+(?:of\s+)?(?P<y>{_YEAR}))?|(?:the\s+)?(?P<s2>{_SEASON})\s+(?:of\s+)?"
         rf"(?P<y2>{_YEAR}))"), _rule_season),
    (_rx(r"\b(?:earlier\s+)?(?P<w>the\s+day\s+before\s+yesterday|yesterday|today|tonight|tomorrow|last\s+night|"
         r"this\s+(?:morning|afternoon|evening))\b"), _rule_day_word),
    (_rx(rf"\b(?:(?:about|around|roughly|approximately|almost|nearly|over|just|only)\s+)?(?P<n>{_NUM})\s+"
         rf"(?P<u>{_UNIT})\s+ago\b"), _rule_ago),
    (_rx(r"\b(?:(?:over|on|at|during)\s+)?(?P<rel>this\s+past|the\s+past|last|this|next|the)\s+weekend\b"),
     _rule_weekend),
    (_rx(rf"\b(?:(?:in|during|over|within|for)\s+)?(?P<the>the\s+)?(?:past|last|previous)\s+(?:(?P<n>{_NUM})\s+)?"
         rf"(?P<u>{_UNIT})"), _rule_past_n),
    (_rx(rf"\b(?:in|during|over)\s+recent\s+(?P<u>{_UNIT})"), _rule_recent_units),
    (_rx(r"\bearlier\s+this\s+(?P<u>week|month|year)\b"), _rule_earlier_this),
    (_rx(r"\b(?:during\s+|in\s+)?(?P<rel>last|this|next|previous|past)\s+(?P<u>week|month|year)\b"), _rule_calendar),
    (_rx(rf"\b(?:this\s+)?(?P<rel>last|this|next|past|previous|on)\s+(?P<wd>{_WEEKDAY})"), _rule_weekday),
    (_rx(rf"\b(?P<rel>in|during|throughout|since|until|till|before|after|last|this|next)\s+(?:the\s+month\s+of\s+)?"
         rf"(?P<m>{_FULL_MONTH})\b(?:\s*(?:,|and|or|&)\s*(?P<m2>{_FULL_MONTH})\b)?"), _rule_month),
    (_rx(rf"\b(?:in|during|throughout|since|until|till|before|after|of|for|from)\s+(?:the\s+year\s+)?"
         rf"(?P<y>{_YEAR})"), _rule_year),
)  # fmt: skip
