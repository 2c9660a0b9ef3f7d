"""The recall pipeline over one namespace: candidates, fusion, then the cue-driven stages.

1. Candidates: dense (cosine) and lexical (BM25) search, each ``candidates`` deep, and BM25
   over each event read in context (after the event before it in its session: an answer
   carries the words of its question) as a lighter third ranking, and BM25 over the stored
   words related to the query's words in embedding space ("instruments" cues "violin":
   ``engram.index.words``) as a fourth; when the query names a participant, dense search for
   the query without the name ("What activities does partake in?") as a fifth; when the
   query carries a time window ("last Tuesday", "in May 2023", "before the move"), both
   searches run again among the events inside the window — those that happened in it, and
   those whose text refers to a time in it ("I went to a fair yesterday", told on 25 April,
   is about 24 April: ``NamespaceIndex.window_rows``) — and join the fusion as two more
   rankings. Reading the events' own time references let the window be exact: on LoCoMo dev
   recall@10 is 0.738 with them and no slack, 0.734 / 0.731 with a slack of 2 / 7 days
   after the window's end and no references.
2. Reciprocal-rank fusion (``retrieval.fuse``).
3. Episodes (HCAM): episode evidence from centroids and episode-level BM25 (``hierarchy``).
4. Temporal contiguity: neighbours of the top hits, forward before backward (``contiguity``).
5. When-anchoring: for "when …?" queries, the dated neighbours of top hits; for "the first
   time …" / "most recently …", the earlier / later of the top hits are raised (``cues``).
6. Participants: a query naming one participant favours what that participant said; events
   that only ask a question count half (``cues``).
7. Strength: the candidates ranked by ACT-R base-level activation (recency, frequency of recall,
   salience: ``strength``) join the fusion as a light ranking of their own; at the end, faded
   events (retention below ``strength.FADED``) are dropped unless the cue is strong (cosine at
   least ``STRONG_CUE``) or the call asks for them (``include_faded``).

Between 1 and 2, once consolidation has built facts, the dense ranking is expanded by them
(``association``): an event scores the better of its own cosine and that of its best fact
(fact-text similarity plus spreading activation from the query's entities), so an event
whose fact matches the query joins the candidates though its own words do not. Expanding
the dense ranking beat giving facts a ranking of their own on LoCoMo dev (recall@10 0.757 vs
0.742: the extra ranking out-voted the direct evidence of single-hop questions).

Every stage can be switched off with ``RecallConfig`` for ablation.

``rank_episodes`` is HCAM's first stage on its own: episodes ranked by their best event, their
centroid and their text as one BM25 document, and by their centroid's cosine to the query
widened towards the top episodes of event recall (pseudo-relevance feedback, ``feedback``);
episodes outside a calendar window of the query are demoted (``OUTSIDE_WINDOW``). Spreading
the top episodes of count / order questions by maximal marginal relevance was tried and
dropped: no change on either dev set once the window demotion was in (LongMemEval 0.928 with
and without); measured again with feedback's baseline, it only loses (``feedback``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from engram.cognition.association import expand_dense, rank_by_facts
from engram.cognition.contiguity import add_neighbours
from engram.cognition.cues import (
    ORDER_SEEDS,
    anchor_in_time,
    asks_when,
    demote_questions,
    favour_participants,
    named_participants,
    prefer_order,
    without_participants,
)
from engram.cognition.feedback import FEEDBACK_EPISODES, feedback_query
from engram.cognition.hierarchy import REPRESENTATIVES, add_episode_evidence, episode_evidence
from engram.cognition.retrieval import fuse
from engram.cognition.strength import FADED
from engram.cognition.timecues import TimeCue, parse_time_cue, strip_time_cue
from engram.index.lexical import LexicalIndex, query_terms, stems
from engram.index.namespace import NamespaceIndex
from engram.index.vector import exact_search_scores
from engram.index.words import EmbedMany

__all__ = ["CANDIDATES", "RecallConfig", "rank", "rank_episodes"]

CANDIDATES = 100  # candidates drawn from each retriever before fusion (at least k)
EPISODE_DEPTH = 100  # episodes ranked per ranking; beyond it reciprocal-rank evidence is negligible
# The in-context rankings (BM25 over each event preceded by the event before it in its session)
# count 0.3. LoCoMo dev recall@10 (multi-hop, temporal, single-hop) at weight 0: 0.756 (0.495,
# 0.900, 0.823); 0.3: 0.767 (0.511, 0.900, 0.841); 0.5: 0.766; 0.7: 0.767; 1.0: 0.770 (0.491,
# 0.893, 0.858). LongMemEval_S dev 0.962 at 0 and 0.3 (one multi-session question down, one
# temporal up).
# Base-level activation as a ranking of the candidates (recall strengthens what it returns, so
# later questions meet the strength earlier ones left). LoCoMo dev recall@10 overall (multi-hop,
# temporal, open-domain): strength off 0.767 (0.511, 0.900, 0.411); weight 0.1: 0.769 (0.501,
# 0.900, 0.434); 0.2: 0.771 (0.502, 0.906, 0.456); 0.3: 0.771 (0.495, 0.906, 0.491); 0.5: 0.767.
ACTIVATION_WEIGHT = 0.2
# BM25 over the stored words related to the query's words, each event read in context
# (``engram.index.words``: "instruments" cues "clarinet"); the sweep is in that module.
RELATED_WORDS_WEIGHT = 0.8
# The query without the participants it names, searched densely as a ranking of its own
# (``_topic``). LoCoMo dev recall@10 overall (multi-hop, open-domain, single-hop, adversarial):
# without it 0.787 (0.529, 0.445, 0.866, 0.812); weight 0.5: 0.793 (0.525, 0.513, 0.871, 0.838);
# 0.75: 0.793; 1.0: 0.794 (0.530, 0.513, 0.869, 0.859); 1.5: 0.793 (0.530, 0.536, 0.865, 0.842).
TOPIC_WEIGHT = 1.0
# When no word of the cue occurs in memory (free recall: "what was on the list?"), similarity
# carries little and activation decides, as in ACT-R retrieval without source activation.
# Immediate free recall of 15-word lists (``engram bench paradigms``), first three / middle third /
# last three positions: weight 1: 0.50 / 0.19 / 0.75; 3: 0.52 / 0.05 / 0.99 (recency swamps all).
UNCUED_ACTIVATION_WEIGHT = 1.0
WEIGHTS = {
    "dense": 1.0,
    "lexical": 1.0,
    "dense_window": 1.0,
    "lexical_window": 1.0,
    "lexical_in_context": 0.3,
    "lexical_in_context_window": 0.3,
    "related_words": RELATED_WORDS_WEIGHT,
    "dense_topic": TOPIC_WEIGHT,
    "activation": ACTIVATION_WEIGHT,
}
# A faded event is still recalled by a cue this close to it (cosine): recognition outlives recall.
STRONG_CUE = 0.8
# Episode scores outside the query's calendar window are multiplied by this. LongMemEval_S dev
# recall_all@5 (temporal-reasoning) at 0.3 / 0.5 / 1: 0.913 (0.937) / 0.928 (0.937) / 0.928 (0.905).
# Measured again with feedback, overall / multi-session / temporal-reasoning (temporal recall_all@3):
# 0.3: 0.928 / 0.867 / 0.937; 0.5 and 0.6: 0.947 / 0.917 / 0.937 (0.810); 0.7 to 0.8: 0.952 /
# 0.933 / 0.937 (0.810); 0.9: same, temporal margins thinner; 1: 0.952 / 0.933 / 0.937 (0.794).
# Both multi-session questions the demotion cost at 0.5 ask about a weekday ("on Monday", "last
# Thursday") that their evidence sessions name relative to their own, earlier dates.
# Recency prior among the top episodes of a query with no time window or order cue (the latest
# word on a subject holds now). LongMemEval_S dev, recall_all@5 overall (multi-session) and how
# often the latest gold session of a knowledge-update question outranks the older ones
# (current_first, 17 questions): 0 -> 0.957 (0.950), 0.412; 0.1 -> current_first 0.618;
# 0.2 -> 0.962 (0.967), 0.765; 0.3 -> 0.957 (0.950), 0.853; 0.5 -> current_first 0.882.
RECENCY = 0.2
RECENCY_TOP = 10
OUTSIDE_WINDOW = 0.75
WINDOW_SLACK = timedelta(0)  # widening of a window's end; see the module docstring

Fused = list[tuple[int, float, dict[str, float]]]


@dataclass(frozen=True, kw_only=True)
class RecallConfig:
    """Which stages recall runs (all by default); switch one off to measure what it adds."""

    episodes: bool = True
    contiguity: bool = True
    time_cues: bool = True
    participants: bool = True
    facts: bool = True
    feedback: bool = True  # recall_episodes only: widen the query by its top episodes
    recency: bool = True  # recall_episodes only: the newer of the top episodes first
    in_context: bool = True  # BM25 over each event with the one before it as a ranking of its own
    related_words: bool = True  # BM25 over stored words near the query's words in embedding space
    topic: bool = True  # dense search for the query without the participants it names, too
    questions: bool = True  # events that only ask a question count half
    strength: bool = True  # rank by base-level activation too, and leave faded events out
    include_faded: bool = False  # with strength: keep faded events (they are still stored)
    candidates: int = CANDIDATES


def rank(
    index: NamespaceIndex,
    query: str,
    embed: Callable[[str], np.ndarray],
    k: int,
    *,
    allow: np.ndarray | None,
    at: datetime,
    config: RecallConfig,
    embed_many: EmbedMany | None = None,
) -> Fused:
    """The top-k (seq, score, components) of ``index`` for ``query``; ``allow`` masks rows.

    ``embed_many`` embeds a batch of texts; without it there is no related-words ranking.
    """
    if not len(index):
        return []
    depth = max(config.candidates, k)
    cue = parse_time_cue(query, at) if config.time_cues else TimeCue()
    qvec = embed(query)
    terms = _terms(query, cue)
    rankings = {"dense": index.vectors.search(qvec, depth, allow), "lexical": _lexical(index, terms, depth, allow)}
    if config.in_context:
        rankings["lexical_in_context"] = _lexical(index, terms, depth, allow, index.in_context)
    named = named_participants(query, list(index.participants))
    if config.topic and named:
        rankings.update(_topic(index, query, named, embed, depth, allow))
    if config.related_words and embed_many is not None:
        rankings["related_words"] = _related_words(index, terms, embed_many, depth, allow)
    lifted: set[int] = set()
    if config.facts and index.graph is not None and len(index.graph):
        by_facts = [
            (int(index.seqs[row]), score) for row, score in rank_by_facts(index.graph, qvec, query, depth, allow)
        ]
        rankings["dense"], lifted = expand_dense(rankings["dense"], by_facts, depth)
    window = _window(index, cue, embed, at, config) if config.time_cues else None
    if window is not None:
        inside = _window_mask(index, window, allow)
        rankings["dense_window"] = index.vectors.search(qvec, depth, inside)
        rankings["lexical_window"] = _lexical(index, terms, depth, inside)
        if config.in_context:
            rankings["lexical_in_context_window"] = _lexical(index, terms, depth, inside, index.in_context)
    weights = WEIGHTS
    if config.strength:
        rankings["activation"] = _by_activation(index, rankings, at)
        if not rankings["lexical"]:  # the cue names nothing stored: what is most active comes to mind
            weights = {**WEIGHTS, "activation": UNCUED_ACTIVATION_WEIGHT}
    fused = fuse(rankings, weights)
    if lifted:
        fused = [(seq, score, {**parts, "fact": 1.0} if seq in lifted else parts) for seq, score, parts in fused]
    if config.episodes and len(index.episodes) > 1:
        fused = _with_episodes(index, fused, qvec, terms, allow)
    episodes = index.episode_of_row  # neighbours are events of the same episode
    if config.contiguity:
        fused = add_neighbours(fused, index.seqs, episodes)
    if config.time_cues and (cue.asks_when or asks_when(query)):
        fused = anchor_in_time(fused, index.seqs, episodes, index.dated)
    if config.time_cues and cue.order:
        occurred = index.vectors.occurred[index.rows_of([seq for seq, _, _ in fused[:ORDER_SEEDS]])]
        fused = prefer_order(fused, occurred, cue.order)
    if config.participants and len(named) == 1:  # favour the one participant the query names
        fused = favour_participants(fused, index.speakers, index.rows_of([seq for seq, _, _ in fused]), named[0])
    if config.questions:
        fused = demote_questions(fused, index.asks[index.rows_of([seq for seq, _, _ in fused])].tolist(), query)
    fused = _merge_copies(index, fused)
    if config.strength and not config.include_faded:
        fused = _without_faded(index, fused, qvec, at)
    return fused[:k]


def _topic(
    index: NamespaceIndex,
    query: str,
    named: list[str],
    embed: Callable[[str], np.ndarray],
    depth: int,
    allow: np.ndarray | None,
) -> dict[str, list[tuple[int, float]]]:
    """``dense_topic``: events ranked by cosine to the query with the participants it names
    (``named``) taken out. Every event embeds its speaker's name, so a named person pulls the
    whole query towards whatever they said; the topic alone finds what was said about it, by
    either side (LoCoMo's adversarial questions name the wrong person)."""
    topic = without_participants(query, named)
    return {"dense_topic": index.vectors.search(embed(topic), depth, allow)} if topic else {}


def _related_words(
    index: NamespaceIndex, terms: list[str], embed_many: EmbedMany, depth: int, allow: np.ndarray | None
) -> list[tuple[int, float]]:
    """Events, each read after the event before it (``in_context``), ranked by BM25 over the
    stored words related to the query's words that memory does not hold (a word it holds is
    matched by the lexical ranking, and expanding it only blurs it: "Priya" cues the other
    names; participants' names are always held, as every event's text starts with its speaker),
    and leaving out numbers."""
    stored = index.lexical.surface
    index.words.catch_up(stored, embed_many)
    own = stems(terms)
    cues = [term for term, stem in zip(terms, own, strict=True) if stem not in stored and not term.isdigit()]
    if not cues:
        return []
    # The query's own word forms: the vocabulary holds one form per stem ("activity" for
    # "activities"), and the form asked about cues better (0.784 vs 0.781 with the stem's).
    related = index.words.related(index.words.vectors(cues, embed_many), set(own))
    seqs = index.seqs
    return [(int(seqs[row]), score) for row, score in index.in_context.search_stems(related, depth, allow)]


def _by_activation(index: NamespaceIndex, rankings: dict[str, list[tuple[int, float]]], at: datetime) -> list:
    """Every candidate of the other rankings, ranked by base-level activation at ``at``."""
    candidates = list(dict.fromkeys(seq for ranked in rankings.values() for seq, _ in ranked))
    if not candidates:
        return []
    values = index.strength.activation(index.rows_of(candidates), at.timestamp())
    order = np.argsort(-values, kind="stable").tolist()
    return [(candidates[i], float(values[i])) for i in order]


def _without_faded(index: NamespaceIndex, fused: Fused, qvec: np.ndarray, at: datetime) -> Fused:
    """Drop events whose retention fell below ``FADED``, unless the cue matches them strongly;
    the survivors keep their order."""
    if not fused:
        return fused
    rows = index.rows_of([seq for seq, _, _ in fused])
    faded = index.strength.retention(rows, at.timestamp()) < FADED
    if faded.any():
        faded &= index.vectors.matrix[rows] @ qvec < STRONG_CUE
    return [item for item, gone in zip(fused, faded.tolist(), strict=True) if not gone]


def _merge_copies(index: NamespaceIndex, fused: Fused) -> Fused:
    """Merge repeated events (the same speaker saying the same words, case and punctuation
    aside) into the best-ranked copy, which counts them under ``copies``: a memory said twice
    is one memory, more strongly held (TiM's merge of stored thoughts)."""
    rows = index.rows_of([seq for seq, _, _ in fused])
    first = index.first_of[rows]
    if not len(first) or len(np.unique(first)) == len(first):
        return fused
    kept: dict[int, int] = {}  # first row -> position in out
    out: Fused = []
    for (seq, score, parts), copy in zip(fused, first.tolist(), strict=True):
        if copy in kept:
            best = out[kept[copy]]
            best[2]["copies"] = best[2].get("copies", 1) + 1
            continue
        kept[copy] = len(out)
        out.append((seq, score, dict(parts)))
    return out


def _terms(query: str, cue: TimeCue) -> list[str]:
    """The query's lexical terms without its time phrases (all of them if nothing else is left)."""
    return query_terms(strip_time_cue(query, cue) if cue.spans else query) or query_terms(query)


def _lexical(
    index: NamespaceIndex, terms: list[str], depth: int, allow: np.ndarray | None, lexical: LexicalIndex | None = None
) -> list[tuple[int, float]]:
    seqs = index.seqs
    return [(int(seqs[row]), score) for row, score in (lexical or index.lexical).search(terms, depth, allow)]


def _window(
    index: NamespaceIndex, cue: TimeCue, embed: Callable[[str], np.ndarray], at: datetime, config: RecallConfig
) -> tuple[float, float] | None:
    """The cue's event-time window in unix seconds (open ends are infinite), or None."""
    since = cue.since.timestamp() if cue.since else -np.inf
    until = cue.until.timestamp() if cue.until else np.inf
    if cue.relation and cue.anchor:
        anchored = _anchor_time(index, cue.anchor, embed, at, config)
        if anchored is not None:
            since, until = (since, min(until, anchored)) if cue.relation == "before" else (max(since, anchored), until)
    if since == -np.inf and until == np.inf:
        return None
    return since, until


def _anchor_time(
    index: NamespaceIndex, anchor: str, embed: Callable[[str], np.ndarray], at: datetime, config: RecallConfig
) -> float | None:
    """When the event that ``anchor`` describes happened: the best match's event time."""
    plain = RecallConfig(episodes=config.episodes, contiguity=False, time_cues=False, participants=False, facts=False)
    top = rank(index, anchor, embed, 1, allow=None, at=at, config=plain)
    if not top:
        return None
    return float(index.vectors.occurred[int(index.rows_of([top[0][0]])[0])])


def _window_mask(index: NamespaceIndex, window: tuple[float, float], allow: np.ndarray | None) -> np.ndarray:
    inside = index.window_rows(window[0], window[1] + WINDOW_SLACK.total_seconds())
    return inside if allow is None else inside & allow


def _with_episodes(
    index: NamespaceIndex, fused: Fused, qvec: np.ndarray, terms: list[str], allow: np.ndarray | None
) -> Fused:
    """Stage 3: add each candidate's episode evidence; represent the top episodes."""
    m = len(index.episodes)
    dense = [e for e, _ in _top_episodes(index.centroids @ qvec, EPISODE_DEPTH)]
    lexical = [g for g, _ in index.lexical.search_groups(terms, index.episode_of_row, EPISODE_DEPTH)]
    bonus = episode_evidence(dense, lexical, m)
    representatives = []
    for episode in np.argsort(-bonus, kind="stable")[:REPRESENTATIVES].tolist():
        rows = index.episode_rows(episode)
        sims = index.vectors.matrix[rows] @ qvec
        if allow is not None:
            sims = np.where(allow[rows], sims, -np.inf)
        if len(sims) and np.isfinite(sims.max()):
            representatives.append((int(index.seqs[rows.start + int(np.argmax(sims))]), episode))
    seqs = [seq for seq, _, _ in fused] + [seq for seq, _ in representatives]
    episode_of = dict(zip(seqs, index.episode_of_row[index.rows_of(seqs)].tolist(), strict=True))
    return add_episode_evidence(fused, bonus, episode_of, representatives)


def rank_episodes(
    index: NamespaceIndex,
    query: str,
    embed: Callable[[str], np.ndarray],
    k: int,
    *,
    allow: np.ndarray | None,
    at: datetime,
    config: RecallConfig,
    embed_many: EmbedMany | None = None,
) -> Fused:
    """The top-k (episode position, score, components) for ``query``: HCAM's first stage on its own.

    Three rankings of episodes are fused by reciprocal rank: by their best event in the full
    event pipeline (``rank``), by the cosine of their centroid, and by BM25 over the episode
    as one document; with ``config.feedback``, a fourth ranks centroids by cosine to the query
    moved towards the top episodes of the first (``feedback``). With ``allow``, only episodes
    with an allowed event take part.
    """
    m = len(index.episodes)
    if not m:
        return []
    vectors: dict[str, np.ndarray] = {}

    def embed_once(text: str) -> np.ndarray:
        if text not in vectors:
            vectors[text] = embed(text)
        return vectors[text]

    events = rank(
        index, query, embed_once, max(config.candidates, k), allow=allow, at=at, config=config, embed_many=embed_many
    )
    by_event = index.episode_of_row[index.rows_of([seq for seq, _, _ in events])].tolist()
    qvec = embed_once(query)
    cue = parse_time_cue(query, at) if config.time_cues else TimeCue()
    terms = _terms(query, cue)
    depth = max(k, EPISODE_DEPTH)
    rankings = {
        "events": [(e, 0.0) for e in dict.fromkeys(e for e in by_event if e >= 0)],
        "dense": _top_episodes(index.centroids @ qvec, depth),
        "lexical": index.lexical.search_groups(terms, index.episode_of_row, depth),
    }
    if config.feedback:
        top = [e for e, _ in rankings["events"][:FEEDBACK_EPISODES]]  # allowed already: rank() saw allow
        rankings["feedback"] = _top_episodes(index.centroids @ feedback_query(qvec, index.centroids, top), depth)
    if allow is not None:
        present = set(index.episode_of_row[allow[: len(index)]].tolist())
        rankings = {name: [(e, s) for e, s in ranked if e in present] for name, ranked in rankings.items()}
    fused = fuse(rankings, dict.fromkeys(rankings, 1.0))
    window = (
        _window(index, TimeCue(since=cue.since, until=cue.until), embed_once, at, config) if config.time_cues else None
    )
    if window is not None:
        inside = set(index.episode_of_row[_window_mask(index, window, allow)].tolist())
        fused = [
            (e, s if e in inside else s * OUTSIDE_WINDOW, {**p, "window": float(e in inside)}) for e, s, p in fused
        ]
        fused.sort(key=lambda item: (-item[1], item[0]))
    if config.recency and not cue.order and window is None:
        fused = _prefer_recent(index, fused)
    return fused[:k]


def _prefer_recent(index: NamespaceIndex, fused: Fused) -> Fused:
    """Raise the newer of the top ``RECENCY_TOP`` episodes: × (1 + ``RECENCY`` · r), r from 0 (the
    oldest of them) to 1 (the newest). The latest word on a subject is what holds now."""
    top = fused[:RECENCY_TOP]
    if len(top) < 2:
        return fused
    ends = np.array([index.episodes[e].episode.ended_at.timestamp() for e, _, _ in top])
    recency = np.argsort(np.argsort(ends, kind="stable"), kind="stable") / (len(top) - 1)
    raised = [
        (e, s * (1 + RECENCY * float(r)), {**p, "recency": float(r)}) for (e, s, p), r in zip(top, recency, strict=True)
    ]
    raised.sort(key=lambda item: (-item[1], item[0]))
    return raised + fused[RECENCY_TOP:]


def _top_episodes(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    top, values = exact_search_scores(scores, k)
    return [(int(e), float(v)) for e, v in zip(top, values, strict=True)]
