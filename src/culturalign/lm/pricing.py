"""Cost of API calls: USD per million tokens, from the spec or a small built-in table.

List prices change; the table holds a few widely used OpenAI models at their published
per-million-token prices as of 2025 and is only a default. ``+input_price=`` and
``+output_price=`` in a model spec override it, and a model missing from both costs
0 and is reported as "price unknown" rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

# model name prefix -> (USD per 1M input tokens, USD per 1M output tokens)
LIST_PRICES_2025: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    source: str  # "spec", "table" or "unknown"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6

    @property
    def known(self) -> bool:
        return self.source != "unknown"


def price_for(model: str, input_price: float | None = None, output_price: float | None = None) -> Price:
    if input_price is not None or output_price is not None:
        return Price(input_price or 0.0, output_price or 0.0, "spec")
    # longest matching prefix wins, so gpt-4o-mini is not priced as gpt-4o
    for prefix in sorted(LIST_PRICES_2025, key=len, reverse=True):
        if model == prefix or model.startswith(prefix + "-"):
            i, o = LIST_PRICES_2025[prefix]
            return Price(i, o, "table")
    return Price(0.0, 0.0, "unknown")
