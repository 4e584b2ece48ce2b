"""Threshold clustering (CAReDiO selection, paper 002 §3.3) against scikit-learn.

Run: ``python benchmarks/bench_select_cluster.py [--n 20000] [--linkages single,average]``

Data: synthetic clustered unit vectors, 512-dimensional (``culturalign.select.synthetic``:
near-paraphrase clusters whose spread straddles θ, topic-level correlation, heavy-tailed
sizes, 10% unrelated background). Not real embeddings; the partition check does not
depend on that, the speed does a little (see ``select/pairs.py``).

For each linkage, culturalign's ``threshold_clusters(x, θ, linkage)`` and scikit-learn's
``AgglomerativeClustering(n_clusters=None, metric="cosine", linkage=..., distance_threshold=1-θ)``
cluster the same vectors in the same process. Printed (``name: value``):

* ``<linkage>_same_partition``: the two partitions are identical (after renumbering);
  ``<linkage>_adjusted_rand_index``: 1.0 when they are;
* ``<linkage>_sklearn_s`` / ``<linkage>_culturalign_s`` and ``<linkage>_speedup``: wall
  time (target: at least 5×), and the same in process CPU time (``*_cpu_s``,
  ``*_cpu_speedup``), which other jobs on a shared machine do not inflate;
* ``clusters``, ``largest_cluster``, ``singletons``: what the partition looks like.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--theta", type=float, default=0.7)
    ap.add_argument("--linkages", default="single", help="comma-separated: single, average, complete")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    from culturalign.select.cluster import canonical, threshold_clusters
    from culturalign.select.synthetic import clustered_unit_vectors

    x, _ = clustered_unit_vectors(args.n, args.dim, seed=args.seed)
    print(f"n: {args.n}")
    print(f"dim: {args.dim}")
    print(f"theta: {args.theta}")
    print("data: synthetic clustered unit vectors (culturalign.select.synthetic)")
    threshold_clusters(x[:2000], args.theta)  # warm up BLAS and imports outside the timing
    for linkage in [s.strip() for s in args.linkages.split(",") if s.strip()]:
        ours, ours_s, ours_cpu = timed(lambda linkage=linkage: threshold_clusters(x, args.theta, linkage))
        model = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage=linkage, distance_threshold=1 - args.theta
        )
        ref, sk_s, sk_cpu = timed(lambda model=model: model.fit(x).labels_)
        same = bool(np.array_equal(canonical(ref), ours.labels))
        print(f"{linkage}_same_partition: {same}")
        print(f"{linkage}_adjusted_rand_index: {adjusted_rand_score(ref, ours.labels):.6f}")
        print(f"{linkage}_sklearn_s: {sk_s:.2f}")
        print(f"{linkage}_culturalign_s: {ours_s:.2f}")
        print(f"{linkage}_speedup: {sk_s / ours_s:.1f}")
        print(f"{linkage}_sklearn_cpu_s: {sk_cpu:.2f}")
        print(f"{linkage}_culturalign_cpu_s: {ours_cpu:.2f}")
        print(f"{linkage}_cpu_speedup: {sk_cpu / ours_cpu:.1f}")
        print(f"{linkage}_clusters: {ours.n_clusters}")
        print(f"{linkage}_largest_cluster: {ours.stats['largest']}")
        print(f"{linkage}_singletons: {ours.stats['singletons']}")
        print(f"{linkage}_border_pairs_rechecked: {ours.stats['border_pairs_rechecked']}")


if __name__ == "__main__":
    main()
