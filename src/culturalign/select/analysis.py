"""Looking at the selected data the way paper 002 §5.3 does: a PCA scatter of the samples
coloured by culture (Fig. 3a: do cultures form separate groups?) and the phrases with
the highest tf-idf weight per culture (Fig. 3b: does each culture's data carry its own
concepts?). Both are written as PNG files and summarised in the selection report.
``compare_datasets`` draws two datasets side by side in one shared PCA (Fig. 3a compares
CAReDiO's data with CulturePark's), with a silhouette score of how well each keeps its
cultures apart.

tf-idf is computed with each culture's selected texts as one document, so a phrase
scores high when it is frequent in that culture's data and rare in the others'.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """(points, explained variance ratios) of the first two principal components."""
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float64)
    k = min(2, len(x) - 1, x.shape[1]) if x.ndim == 2 else 0
    if k < 1:  # fewer than two points: nothing varies
        return np.zeros((len(x), 2)), [0.0, 0.0]
    pca = PCA(n_components=k, random_state=0)
    pts = pca.fit_transform(x)
    if k < 2:
        pts = np.hstack([pts, np.zeros((len(pts), 2 - k))])
    ratios = [*pca.explained_variance_ratio_.tolist(), 0.0][:2]
    return pts, ratios


def pca_scatter(vectors: np.ndarray, cultures: Sequence[str], path: str | Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts, ratios = pca_2d(vectors)
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=120)
    for i, culture in enumerate(sorted(set(cultures))):
        sel = np.array([c == culture for c in cultures])
        ax.scatter(
            pts[sel, 0], pts[sel, 1], s=14, alpha=0.75, label=f"{culture} ({sel.sum()})", color=f"C{i % 10}"
        )
    ax.set_xlabel(f"PC1 ({ratios[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ratios[1]:.0%} of variance)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def top_phrases(
    texts_by_culture: dict[str, Sequence[str]], top: int = 12
) -> dict[str, list[tuple[str, float]]]:
    """The ``top`` uni- and bigrams with the highest tf-idf weight in each culture's texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    cultures = sorted(c for c, texts in texts_by_culture.items() if texts)
    if not cultures:
        return {}
    docs = [" \n".join(texts_by_culture[c]) for c in cultures]
    vec = TfidfVectorizer(
        ngram_range=(1, 2), stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b\w[\w'-]+\b"
    )
    try:
        m = vec.fit_transform(docs)
    except ValueError:  # nothing left after stop words
        return {c: [] for c in cultures}
    vocab = np.array(vec.get_feature_names_out())
    out = {}
    for row, c in enumerate(cultures):
        weights = m[row].toarray().ravel()
        order = np.lexsort((vocab, -weights))[:top]
        out[c] = [(str(vocab[k]), float(weights[k])) for k in order if weights[k] > 0]
    return out


def phrases_chart(phrases: dict[str, list[tuple[str, float]]], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cultures = list(phrases)
    cols = min(3, max(1, len(cultures)))
    rows = max(1, -(-len(cultures) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), dpi=110, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, c in enumerate(cultures):
        ax = axes.ravel()[i]
        ax.axis("on")
        items = phrases[c][::-1]
        ax.barh([p for p, _ in items], [w for _, w in items], color=f"C{i % 10}")
        ax.set_title(c, fontsize=10)
        ax.tick_params(labelsize=8)
    fig.suptitle("Top tf-idf phrases per culture")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


# -- two datasets side by side (002 Fig. 3a: CAReDiO's data next to CulturePark's) -----------


def culture_separation(vectors: np.ndarray, cultures: Sequence[str]) -> float | None:
    """Mean silhouette of the cultures (cosine, in the full embedding space): near 1 when
    each culture's samples sit apart from the others', near 0 when they overlap. None
    when it is undefined (one culture, or a culture per sample)."""
    from sklearn.metrics import silhouette_score

    labels = list(cultures)
    k = len(set(labels))
    if k < 2 or k >= len(labels):
        return None
    return float(silhouette_score(np.asarray(vectors, dtype=np.float64), labels, metric="cosine"))


def compare_scatter(
    datasets: Sequence[tuple[str, np.ndarray, Sequence[str]]], path: str | Path, title: str
) -> tuple[Path, list[float]]:
    """One panel per dataset, all in one PCA fitted on every sample together, so the panels
    share axes and a spread seen in one can be compared with the other. A culture keeps
    its colour in every panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stacked = np.vstack([np.asarray(v, dtype=np.float64) for _, v, _ in datasets])
    pts, ratios = pca_2d(stacked)
    colours = {c: f"C{i % 10}" for i, c in enumerate(sorted({c for _, _, cs in datasets for c in cs}))}
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.8), dpi=110, squeeze=False)
    start = 0
    for ax, (name, vectors, cultures) in zip(axes.ravel(), datasets, strict=True):
        part = pts[start : start + len(vectors)]
        start += len(vectors)
        for culture in sorted(set(cultures)):
            sel = np.array([c == culture for c in cultures])
            ax.scatter(part[sel, 0], part[sel, 1], s=12, alpha=0.75, color=colours[culture], label=culture)
        ax.set_title(f"{name} ({len(vectors)} samples)", fontsize=10)
        ax.set_xlabel(f"PC1 ({ratios[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({ratios[1]:.0%} of variance)")
        ax.legend(fontsize=7, loc="best")
    for ax in axes.ravel():  # the same window on every panel
        for axis, set_lim in ((pts[:, 0], ax.set_xlim), (pts[:, 1], ax.set_ylim)):
            pad = 0.05 * float(axis.max() - axis.min()) or 0.05
            set_lim(float(axis.min()) - pad, float(axis.max()) + pad)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path, ratios


def compare_datasets(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    labels: Sequence[str] | None = None,
    embedder: str = "usem3",
    embed_cache: bool = True,
    limit: int | None = None,
) -> dict:
    """Embed each dataset's samples (question and answer, as selection clusters them), draw
    them side by side and measure how far apart each keeps its cultures. Writes ``out``
    (PNG) and ``out`` with ``.json`` (the numbers); returns the numbers."""
    from culturalign.errors import ConfigError
    from culturalign.io import write_json
    from culturalign.select.caredio import cluster_text
    from culturalign.select.data import load_selection_input
    from culturalign.select.embed import open_embedder

    names = list(labels) if labels else [Path(p).stem for p in paths]
    if len(names) != len(paths):
        raise ConfigError(f"--label: give one label per dataset ({len(paths)}), not {len(names)}")
    encode = open_embedder(embedder, embed_cache, desc="embed for comparison")
    panels, summary = [], {"embedder": encode.name, "datasets": []}
    for path, name in zip(paths, names, strict=True):
        samples, kind = load_selection_input(path)
        samples = [s for s in samples if s.ok][:limit] if limit else [s for s in samples if s.ok]
        if not samples:
            raise ConfigError(f"{path}: no answered samples to compare")
        vectors = np.asarray(encode([cluster_text(s, "sample") for s in samples]))
        cultures = [s.target_culture for s in samples]
        panels.append((name, vectors, cultures))
        summary["datasets"].append(
            {
                "label": name,
                "path": str(path),
                "kind": kind,
                "samples": len(samples),
                "cultures": {c: cultures.count(c) for c in sorted(set(cultures))},
                "culture_separation": culture_separation(vectors, cultures),
            }
        )
    out = Path(out)
    _, ratios = compare_scatter(panels, out, "Samples by culture, one shared PCA (cf. paper 002 Fig. 3a)")
    summary["explained_variance"] = ratios
    write_json(out.with_suffix(".json"), summary)
    return summary
