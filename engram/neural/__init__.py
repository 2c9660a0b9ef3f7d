"""Small numerical models that learn online (pure numpy, explicit state)."""

from __future__ import annotations

from engram.neural.predictor import PredictorState, init_state, predict, surprise, surprise_series, update

__all__ = ["PredictorState", "init_state", "predict", "surprise", "surprise_series", "update"]
