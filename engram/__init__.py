"""Engram: long-term memory for LLM agents — embedded, offline, measured.

from engram import Memory
mem = Memory("./mem")
mem.remember("I moved to Lisbon in May.", namespace="alice", speaker="alice")
mem.recall("where does alice live?", namespace="alice")
"""

from __future__ import annotations

from engram import errors
from engram.cognition.forget import ForgetReport
from engram.cognition.recall import RecallConfig
from engram.cognition.strength import Strength
from engram.cognition.working import WorkingMemory
from engram.core.records import Context, Entity, Episode, EpisodeHit, Event, Fact, Hit, Profile
from engram.interfaces.api import Memory
from engram.perception.embedders import HashEmbedder, MiniLMEmbedder

__version__ = "0.1.0"

__all__ = [
    "Context",
    "Entity",
    "Episode",
    "EpisodeHit",
    "Event",
    "Fact",
    "ForgetReport",
    "HashEmbedder",
    "Hit",
    "Memory",
    "MiniLMEmbedder",
    "Profile",
    "RecallConfig",
    "Strength",
    "WorkingMemory",
    "__version__",
    "errors",
]
