"""Helpers for tests and benchmarks of culturalign and of code built on it.

They ship in the package (benchmarks and downstream tests use them too) but nothing
in culturalign's own stages imports them:

* ``culturalign.testing.build_tiny_model`` (from ``.tiny``): a tiny random Llama and
  tokenizer built on the spot, so nothing is downloaded (needs the ``[hf]`` extra);
* ``culturalign.testing.server``: a real ``transformers serve`` on loopback;
* ``culturalign.testing.proxy``: a fault-injecting HTTP proxy on loopback.

Importing this package imports none of torch or transformers.
"""

from __future__ import annotations

from .tiny import CHAT_TEMPLATE, build_tiny_model

__all__ = ["CHAT_TEMPLATE", "build_tiny_model"]
