"""Time cues parsed from recall queries, relative to the question's ``at``: a table, then edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engram.cognition.timecues import TimeCue, parse_time_cue, strip_time_cue
from engram.errors import InvalidInput

TUE = "2023-05-30T23:40+00:00"  # a Tuesday, the LongMemEval default question date

# query, at, since, until (dates or "date hh:mm" in at's timezone), order, relation, anchor, asks_when
ROWS: list[tuple[str, str, str | None, str | None, str | None, str | None, str | None, bool]] = [
    # days and nights
    ("What did I buy yesterday?", TUE, "2023-05-29", "2023-05-30", None, None, None, False),
    ("What did I do today?", TUE, "2023-05-30", "2023-05-31", None, None, None, False),
    ("What did I do last night?", TUE, "2023-05-29 18:00", "2023-05-30 06:00", None, None, None, False),
    ("What did I do the day before yesterday?", TUE, "2023-05-28", "2023-05-29", None, None, None, False),
    # N units ago: centred, half-width max(N/4, 1/2) units, at least a day
    ("What was the social media activity I participated 5 days ago?", "2023-03-20T11:50+00:00",
     "2023-03-14", "2023-03-17", None, None, None, False),
    ("What was the milestone I mentioned four weeks ago?", "2023-03-28T20:35+00:00",
     "2023-02-21", "2023-03-08", None, None, None, False),
    ("What happened a week ago?", TUE, "2023-05-19", "2023-05-28", None, None, None, False),
    ("I cooked something a couple of days ago. What was it?", "2022-04-12T22:57+00:00",
     "2022-04-09", "2022-04-12", None, None, None, False),
    ("How was my car a few months ago?", TUE, "2023-02-05", "2023-03-24", None, None, None, False),
    ("Where did Caroline move from 4 years ago?", "2024-01-04T12:00+00:00",
     "2019-01-04", "2021-01-04", None, None, None, False),
    # calendar weeks, weekends, months, years, weekdays
    ("What did I do last week?", TUE, "2023-05-22", "2023-05-29", None, None, None, False),
    ("What did I do this week?", TUE, "2023-05-29", "2023-06-05", None, None, None, False),
    ("Which bike did I fix the past weekend?", "2023-03-21T21:43+00:00",
     "2023-03-18", "2023-03-20", None, None, None, False),
    ("What cocktail did I try last weekend?", TUE, "2023-05-27", "2023-05-29", None, None, None, False),
    ("What did I do last weekend?", "2023-05-28T10:00+00:00", "2023-05-20", "2023-05-22", None, None, None, False),
    ("What did I do over the weekend?", "2023-05-27T10:00+00:00", "2023-05-27", "2023-05-29", None, None, None, False),
    ("I want to rearrange my bedroom this weekend. Tips?", TUE, "2023-06-03", "2023-06-05", None, None, None, False),
    ("What did I read last month?", TUE, "2023-04-01", "2023-05-01", None, None, None, False),
    ("How much did I make this month?", TUE, "2023-05-01", "2023-06-01", None, None, None, False),
    ("What happened earlier this month?", TUE, "2023-05-01", "2023-05-31", None, None, None, False),
    ("What happened last year?", TUE, "2022-01-01", "2023-01-01", None, None, None, False),
    ("What happened this year?", TUE, "2023-01-01", "2024-01-01", None, None, None, False),
    ("Who did I meet with during the lunch last Tuesday?", "2023-04-18T16:50+00:00",
     "2023-04-11", "2023-04-12", None, None, None, False),
    ("What artist did I start to listen to last Friday?", "2023-04-05T19:25+00:00",
     "2023-03-31", "2023-04-01", None, None, None, False),
    ("What time did I reach the clinic on Monday?", TUE, "2023-05-29", "2023-05-30", None, None, None, True),
    # rolling windows: from the start of the day N units back to the end of at's day
    ("How many plants did I acquire in the last month?", TUE, "2023-04-30", "2023-05-31", None, None, None, False),
    ("How many times did I bake in the past two weeks?", TUE, "2023-05-16", "2023-05-31", None, None, None, False),
    ("How many MCU films did I watch in the last 3 months?", "2023-06-17T16:20+00:00",
     "2023-03-17", "2023-06-18", None, None, None, False),
    # months, years, seasons (a month without a year: the most recent one not after at)
    ("Which outdoor spot did Joanna visit in May?", "2022-11-11T12:00+00:00",
     "2022-05-01", "2022-06-01", None, None, None, False),
    ("What did I do in May?", "2023-04-10T12:00+00:00", "2022-05-01", "2022-06-01", None, None, None, False),
    ("What did I do in May?", TUE, "2023-05-01", "2023-06-01", None, None, None, False),
    ("What did I do last May?", TUE, "2022-05-01", "2022-06-01", None, None, None, False),
    ("What did John attend in March 2023?", TUE, "2023-03-01", "2023-04-01", None, None, None, False),
    ("What happened in 2022?", TUE, "2022-01-01", "2023-01-01", None, None, None, False),
    ("Which airline did I fly with the most in March and April?", TUE,
     "2023-03-01", "2023-05-01", None, None, None, False),
    ("Who did I meet in early 2023?", TUE, "2023-01-01", "2023-05-01", None, None, None, False),
    ("What did I do last summer?", TUE, "2022-06-01", "2022-09-01", None, None, None, False),
    ("What did I do last summer?", "2023-09-15T12:00+00:00", "2023-06-01", "2023-09-01", None, None, None, False),
    ("What will I do this spring?", TUE, "2023-03-01", "2023-06-01", None, None, None, False),
    ("What did I do last winter?", TUE, "2022-12-01", "2023-03-01", None, None, None, False),
    ("What did I do in the fall?", TUE, "2022-09-01", "2022-12-01", None, None, None, False),
    # absolute days, ranges and parts of months
    ("What movie did Joanna watch on 1 May, 2022?", TUE, "2022-05-01", "2022-05-02", None, None, None, False),
    ("What did I do on May 1st?", TUE, "2023-05-01", "2023-05-02", None, None, None, False),
    ("Who did Maria have dinner with on May 3, 2023?", TUE, "2023-05-03", "2023-05-04", None, None, None, False),
    ("What happened 8 May, 2023?", TUE, "2023-05-08", "2023-05-09", None, None, None, False),
    ("What happened on 2023-05-08?", TUE, "2023-05-08", "2023-05-09", None, None, None, False),
    ("Where was the picture shared on December 1,2023 taken?", "2024-01-12T12:00+00:00",
     "2023-12-01", "2023-12-02", None, None, None, False),
    ("Where was John between August 11 and August 15 2023?", TUE, "2023-08-11", "2023-08-16", None, None, None, False),
    ("What happened between May and July?", TUE, "2022-05-01", "2022-08-01", None, None, None, False),
    ("What happened from 2020 to 2022?", TUE, "2020-01-01", "2023-01-01", None, None, None, False),
    ("Which country was Tim visiting in the second week of November?", "2024-01-12T12:00+00:00",
     "2023-11-08", "2023-11-15", None, None, None, False),
    ("What happened in early August 2023?", TUE, "2023-08-01", "2023-08-11", None, None, None, False),
    ("What happened mid-August 2023?", TUE, "2023-08-11", "2023-08-21", None, None, None, False),
    ("What happened in late August 2023?", TUE, "2023-08-21", "2023-09-01", None, None, None, False),
    ("Which tournament did Nate win in the beginning of November 2022?", TUE,
     "2022-11-01", "2022-11-11", None, None, None, False),
    ("Was the first half of September 2022 a good month?", TUE, "2022-09-01", "2022-09-16", None, None, None, False),
    # edges: before/after/by a date, the week/day/Sunday before a date
    ("Where was Tim in the week before 16 November 2023?", TUE, "2023-11-09", "2023-11-16", None, None, None, False),
    ("What did Maria's puppy get two weeks before August 11, 2023?", TUE,
     "2023-07-28", "2023-08-04", None, None, None, False),
    ("What was shown on the Sunday before October 25, 2022?", TUE, "2022-10-23", "2022-10-24", None, None, None, False),
    ("What happened the day after 3 May 2023?", TUE, "2023-05-04", "2023-05-05", None, None, None, False),
    ("What did I do before May?", TUE, None, "2023-05-01", None, None, None, False),
    ("What did I do after 2022?", TUE, "2023-01-01", None, None, None, None, False),
    ("How many tournaments has Nate won by July 10, 2022?", TUE, None, "2022-07-11", None, None, None, False),
    ("What is the order of airlines I flew with from earliest to latest before today?", "2023-03-02T06:11+00:00",
     None, "2023-03-02", None, None, None, False),
    # a phrase relative to at that contradicts a date in the same query is re-read from that date
    ("What did Joanna just finish last Friday on 23 January, 2022?", "2022-11-11T12:00+00:00",
     "2022-01-21", "2022-01-24", None, None, None, False),
    ("What did Maria participate in last weekend before April 10, 2023?", "2023-08-16T12:00+00:00",
     "2023-04-08", "2023-04-10", None, None, None, False),
    # order, relation, asks-when
    ("Which streaming service did I start using most recently?", TUE, None, None, "last", None, None, False),
    ("What did I buy recently?", TUE, None, None, "last", None, None, False),
    ("When was the first time I went to Paris?", TUE, None, None, "first", None, None, True),
    ("Which device did I get first, the Samsung Galaxy S22 or the Dell XPS 13?", TUE,
     None, None, "first", None, None, False),
    ("Which vehicle did I take care of first in February, the bike or the car?", "2023-03-10T03:39+00:00",
     "2023-02-01", "2023-03-01", "first", None, None, False),
    ("How many weeks passed between the last time I sold baked goods and the Spring Fling Market?", TUE,
     None, None, "last", None, None, True),
    ("What did I do before the trip?", TUE, None, None, None, "before", "the trip", False),
    ("Where did I eat after I moved to Lisbon?", TUE, None, None, None, "after", "I moved to Lisbon", False),
    ("Which city was John in before traveling to Chicago?", TUE, None, None, None, "before",
     "traveling to Chicago", False),
    ("How many days before I bought the iPhone 13 Pro did I attend the Holiday Market?", TUE, None, None, None,
     "before", "I bought the iPhone 13 Pro", True),
    ("How many new postcards have I added since I started collecting again?", TUE, None, None, None, "after",
     "I started collecting again", False),
    ("What was the first issue I had with my new car after its first service?", TUE, None, None, "first", "after",
     "its first service", False),
    ("What was my last name before I changed it?", TUE, None, None, None, "before", "I changed it", False),
    ("When did Maria adopt Shadow?", TUE, None, None, None, None, None, True),
    ("How many days ago did I attend a networking event?", TUE, None, None, None, None, None, True),
    ("How long has Caroline had her current group of friends for?", TUE, None, None, None, None, None, True),
    ("What year did John start surfing?", TUE, None, None, None, None, None, True),
    ("In which month's game did John achieve a career-high score?", TUE, None, None, None, None, None, True),
    ("After how many weeks did Tim reconnect with the fan?", TUE, None, None, None, None, None, True),
    # traps: words that are dates only in context
    ("May I ask what you may know?", TUE, None, None, None, None, None, False),
    ("What may I cook for dinner?", TUE, None, None, None, None, None, False),
    ("Did we march in the parade?", TUE, None, None, None, None, None, False),
    ("Did we sit in the sun on sat?", TUE, None, None, None, None, None, False),
    ("What did I do for the second time?", TUE, None, None, None, None, None, False),
    ("Wait a second, where was I?", TUE, None, None, None, None, None, False),
    ("What was the rotation for Admon on a Sunday?", TUE, None, None, None, None, None, False),
    ("How many days had passed between the Sunday mass and the Ash Wednesday service?", TUE,
     None, None, None, None, None, True),
    ("How many days a week do I attend fitness classes?", TUE, None, None, None, None, None, False),
    ("How old was I when I moved to the United States?", TUE, None, None, None, None, None, False),
    ("When I was in Paris, what did I eat?", TUE, None, None, None, None, None, False),
    ("Who looks after my dog?", TUE, None, None, None, None, None, False),
    ("What was the move you made after 27. Kg2 Bd5+?", TUE, None, None, None, None, None, False),
    ("Where is the hot spring?", TUE, None, None, None, None, None, False),
    ("Did I participate in the Spring Fling Market?", TUE, None, None, None, None, None, False),
    ("What did you think of my first name?", TUE, None, None, None, None, None, False),
]  # fmt: skip


def _moment(text: str | None, at: datetime) -> datetime | None:
    if text is None:
        return None
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=at.tzinfo)


@pytest.mark.parametrize(("query", "at_text", "since", "until", "order", "relation", "anchor", "asks_when"), ROWS)
def test_time_cue_table(
    query: str,
    at_text: str,
    since: str | None,
    until: str | None,
    order: str | None,
    relation: str | None,
    anchor: str | None,
    asks_when: bool,
) -> None:
    at = datetime.fromisoformat(at_text)
    cue = parse_time_cue(query, at)
    got = (cue.since, cue.until, cue.order, cue.relation, cue.anchor, cue.asks_when)
    assert got == (_moment(since, at), _moment(until, at), order, relation, anchor, asks_when)
    assert cue.empty == (since is None and until is None and order is None and relation is None)


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 40


def test_windows_are_in_the_timezone_of_at() -> None:
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2023, 5, 30, 0, 30, tzinfo=plus_two)  # still 29 May in UTC
    cue = parse_time_cue("What did I buy yesterday?", at)
    assert (cue.since, cue.until) == (datetime(2023, 5, 29, tzinfo=plus_two), datetime(2023, 5, 30, tzinfo=plus_two))
    assert cue.since is not None and cue.since.utcoffset() == timedelta(hours=2)
    same_instant_utc = parse_time_cue("What did I buy yesterday?", at.astimezone(timezone.utc))
    assert same_instant_utc.since == datetime(2023, 5, 28, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("query", "at", "since", "until"),
    [
        ("What did I read last month?", datetime(2023, 3, 31, 12), datetime(2023, 2, 1), datetime(2023, 3, 1)),
        ("What did I read last month?", datetime(2023, 1, 31, 12), datetime(2022, 12, 1), datetime(2023, 1, 1)),
        ("What did I buy in the past month?", datetime(2023, 3, 31, 12), datetime(2023, 2, 28), datetime(2023, 4, 1)),
        ("What did I buy in the past month?", datetime(2024, 3, 31, 12), datetime(2024, 2, 29), datetime(2024, 4, 1)),
        ("What did I buy a month ago?", datetime(2023, 3, 31, 12), datetime(2023, 2, 13), datetime(2023, 3, 16)),
        ("What did I do last week?", datetime(2023, 1, 3, 12), datetime(2022, 12, 26), datetime(2023, 1, 2)),
        ("What happened on 29 February?", datetime(2023, 3, 31, 12), datetime(2020, 2, 29), datetime(2020, 3, 1)),
    ],
)
def test_month_and_year_ends(query: str, at: datetime, since: datetime, until: datetime) -> None:
    cue = parse_time_cue(query, at.replace(tzinfo=timezone.utc))
    assert (cue.since, cue.until) == (since.replace(tzinfo=timezone.utc), until.replace(tzinfo=timezone.utc))


def test_naive_at_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        parse_time_cue("What did I do yesterday?", datetime(2023, 5, 30))


def test_query_without_time_words_gives_an_empty_cue() -> None:
    at = datetime.fromisoformat(TUE)
    assert parse_time_cue("Who is Melanie's husband?", at) == TimeCue()
    when = parse_time_cue("When did Melanie paint a sunrise?", at)
    assert when.empty and when.asks_when and when.spans == ()


@pytest.mark.parametrize(
    ("query", "spans", "stripped"),
    [
        ("What movie did Joanna watch on 1 May, 2022?", ("on 1 May, 2022",), "What movie did Joanna watch?"),
        ("Which service did I start using most recently?", ("most recently",), "Which service did I start using?"),
        ("What did I do before the trip?", ("before the trip",), "What did I do the trip?"),
        ("What was the first issue after its first service?", ("first", "after its first service"),
         "What was the issue its first service?"),
        ("May I ask what you may know?", (), "May I ask what you may know?"),
        ("Where was Tim in the week before 16 November 2023?", ("in the week before 16 November 2023",),
         "Where was Tim?"),
    ],
)  # fmt: skip
def test_spans_and_strip(query: str, spans: tuple[str, ...], stripped: str) -> None:
    cue = parse_time_cue(query, datetime.fromisoformat(TUE))
    assert cue.spans == spans
    assert strip_time_cue(query, cue) == stripped


_WORDS = (
    "May may march March second sat sun the a few couple of 3 11th 2023 2023-13-45 in on before after since by "
    "last this next past week weekend month year day days ago yesterday today night first latest recently "
    "early mid late beginning end of between and to from Tuesday Sunday summer fall spring February 29 31 , ? ."
).split()


@given(st.lists(st.sampled_from(_WORDS), max_size=14).map(" ".join) | st.text(max_size=80))
def test_never_raises_and_windows_are_ordered(query: str) -> None:
    at = datetime(2023, 3, 31, 23, 40, tzinfo=timezone(timedelta(hours=-5)))
    cue = parse_time_cue(query, at)
    if cue.since is not None and cue.until is not None:
        assert cue.since < cue.until
    for moment in (cue.since, cue.until):
        assert moment is None or moment.utcoffset() == timedelta(hours=-5)
    assert isinstance(strip_time_cue(query, cue), str)


def test_calendar_overflow_gives_no_window() -> None:
    cue = parse_time_cue("What happens next year?", datetime(9999, 12, 31, 23, tzinfo=timezone.utc))
    assert (cue.since, cue.until) == (None, None)
