"""The design studio's part of `make bench`: the mockup compositor and the local artwork
generator, in process (no database, no storage, no network).

- mockup: one 1024 px side of a hoodie with artwork and text, `common.studio.mockups.render_side`;
  cold is the first render of a product side (its template is drawn), warm the rest; and the
  same render followed by the PNG encoding that storage receives.
- generation: `common.providers.local.artwork.generate` at 1024 px over a spread of subjects
  and styles.
- suggestions (`GET /api/suggestions`, with the database and storage): making a product's
  ideas of the day (the assistant, the artwork and the mockups: the first request of the day),
  serving them after (one state read), and the bare baseline: one state read of a missing
  document.

Nothing here asserts on timings: the numbers are for people, not for tests.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

MOCKUP_RUNS = 30
GENERATION_PROMPTS = (
    ("a neon tiger", "neon"),
    ("a bold skull", "bold"),
    ("a vintage anchor", "vintage"),
    ("a minimal mountain", "minimal"),
    ("a geometric wolf", "geometric"),
    ("a watercolor rose", "watercolor"),
    ("a retro sun", "retro"),
    ("a grunge eagle", "grunge"),
    ("a pixel ghost", "pixel"),
    ("Quokka Club", "bold"),
)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "runs": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max_ms": ordered[-1],
    }


def measure(runs: int = MOCKUP_RUNS) -> dict[str, Any]:
    from common.providers.local import artwork
    from common.studio import images, mockups, prompts
    from common.studio.garments import PRINT_AREAS
    from common.studio.layers import ImageLayer, TextLayer

    art = artwork.generate(prompts.ArtworkRequest("tiger", "neon", ("#8e44ad",)))
    asset = "artwork/" + "b" * 24 + ".png"
    layers: list[ImageLayer | TextLayer] = [
        ImageLayer(id="art", area="front", x=0.5, y=0.45, scale=0.8, asset=asset),
        TextLayer(id="text-1", area="front", x=0.5, y=0.9, text="Night Shift", size=0.12),
    ]
    area = PRINT_AREAS["hoodie"]["front"]

    def render() -> Any:
        return mockups.render_side("hoodie", "#151515", "front", area, layers, {asset: art})

    cold = _timed(render)
    warm = [_timed(render) for _ in range(runs)]
    stored = [_timed(lambda: images.encode_png(render())) for _ in range(max(5, runs // 3))]

    def generate(prompt: str, style: str) -> Callable[[], object]:
        return lambda: artwork.generate(prompts.ArtworkRequest(prompt, style))

    generation = [
        _timed(generate(prompt, style)) for prompt, style in GENERATION_PROMPTS for _ in range(2)
    ]
    return {
        "mockup_1024": {"cold_ms": cold, **_summary(warm)},
        "mockup_1024_with_png": _summary(stored),
        "local_generation_1024": _summary(generation),
    }


def measure_suggestions(runs: int = 200) -> dict[str, Any]:
    from common.infra import state
    from common.shop import catalog, delivery
    from common.studio import suggestions

    day = delivery.today().isoformat()

    def make(product_id: str) -> Callable[[], object]:
        state.backend().take(suggestions.COLLECTION, f"{product_id}:{day}")  # made afresh
        return lambda: suggestions.suggestions(product_id)

    made = [_timed(make(product.id)) for product in catalog.catalog().products]
    served = [_timed(lambda: suggestions.suggestions("hoodie")) for _ in range(runs)]
    bare = [
        _timed(lambda: state.backend().get(suggestions.COLLECTION, "none")) for _ in range(runs)
    ]
    return {
        "suggestions_made": _summary(made),
        "suggestions_served": _summary(served),
        "bare_state_read": _summary(bare),
    }


def print_suggestions(result: dict[str, Any]) -> None:
    made, served = result["suggestions_made"], result["suggestions_served"]
    bare = result["bare_state_read"]
    print(
        f"\nsuggestions | made (first request of a product's day): p50 {made['p50_ms']:.0f} ms,"
        f" max {made['max_ms']:.0f} ms over {made['runs']} products"
        f" | served after: p50 {served['p50_ms']:.2f} ms, p95 {served['p95_ms']:.2f} ms"
        f" | bare state read: p50 {bare['p50_ms']:.2f} ms"
    )


def print_result(result: dict[str, Any]) -> None:
    mockup, stored = result["mockup_1024"], result["mockup_1024_with_png"]
    generation = result["local_generation_1024"]
    print(
        f"\ndesign studio | mockup 1024 px: p50 {mockup['p50_ms']:.1f} ms, p95"
        f" {mockup['p95_ms']:.1f} ms (first render of a side {mockup['cold_ms']:.0f} ms)"
        f" | with PNG encoding: p50 {stored['p50_ms']:.1f} ms"
        f" | local artwork 1024 px: p50 {generation['p50_ms']:.1f} ms,"
        f" p95 {generation['p95_ms']:.1f} ms over {generation['runs']} prompts"
    )


def main() -> dict[str, Any]:
    result = measure()
    print_result(result)
    return result


if __name__ == "__main__":
    main()
