"""The one interface every model call goes through.

``load_lm(spec)`` parses a model spec (``embedded``, ``hf:PATH[+adapter=DIR]``,
``openai:MODEL[@URL]``, ``vllm:PATH``) into a backend and wraps it in the SQLite call
cache. Backends are imported only when chosen.
"""

from culturalign.lm.base import Backend, GenRequest, LabelScoreRequest, ScoreRequest
from culturalign.lm.cached import LM
from culturalign.lm.registry import load_lm, parse_spec

__all__ = ["LM", "Backend", "GenRequest", "LabelScoreRequest", "ScoreRequest", "load_lm", "parse_spec"]
