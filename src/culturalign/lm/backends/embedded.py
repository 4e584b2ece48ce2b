"""The embedded SmolLM2 model, as an ``hf`` backend over its prepared safetensors copy."""

from __future__ import annotations

from typing import Any

from culturalign.lm.backends.hf import HFBackend
from culturalign.models import embedded


class EmbeddedBackend(HFBackend):
    kind = "embedded"
    # SmolLM2-135M was trained on English text; runs in other languages carry a warning
    english_only = True

    def __init__(self, **kwargs: Any):
        super().__init__(embedded.prepare(), **kwargs)

    def _make_identity(self) -> dict[str, Any]:
        ident = super()._make_identity()
        ident["backend"] = "embedded"
        ident["model"] = embedded.NAME
        return ident
