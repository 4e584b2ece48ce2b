"""CAReDiO selection over 200,000 embeddings: time and peak memory.

Run: ``python benchmarks/bench_select_scale.py [--n 200000] [--linkage single]``

scikit-learn's agglomerative clustering needs the n × n distance matrix (200,000² float64
is 320 GB), so it cannot run here at all; culturalign's selection keeps memory linear in
n (see ``select/pairs.py`` and ``select/cluster.py``). The selection runs in a child
process so that its peak resident memory (``ru_maxrss``) is its own.

Data: synthetic clustered unit vectors, 512-dimensional (``culturalign.select.synthetic``),
as the sample embeddings; for each cluster centre, synthetic answer embeddings of the
target culture and of 4 other cultures (only centres need them, as in the real stage,
which embeds answers only for centres). What is timed is ``caredio.rank_clusters``:
threshold clustering (θ = 0.7), centres, r = cluster size, d against 4 other answers,
s = r·d, ordering and a budget of 1,000 samples.

Printed (``name: value``): ``n``, ``generate_s`` (making the synthetic data, not part of
the selection), ``select_s`` and its phases, ``peak_rss_gb``, ``clusters``, ``picked``,
``within_10_min`` and ``within_8_gb``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("CULTURALIGN_PROGRESS", "0")


def child(n: int, dim: int, theta: float, linkage: str) -> None:
    import numpy as np

    from culturalign.select import scores
    from culturalign.select.caredio import SelectionConfig, rank_clusters
    from culturalign.select.synthetic import clustered_unit_vectors

    t = time.perf_counter()
    x, _ = clustered_unit_vectors(n, dim, seed=0)
    generate_s = time.perf_counter() - t
    ids = [f"s{i:07d}" for i in range(n)]
    rng = np.random.default_rng(1)
    phases: dict[str, float] = {}

    def d_for(centers: np.ndarray):
        t0 = time.perf_counter()
        d = np.empty(len(centers))
        for s in range(0, len(centers), 8192):  # answers made and compared chunk by chunk
            c = centers[s : s + 8192]
            target = x[c] + rng.normal(0, 0.05, (len(c), dim)).astype(np.float32)
            others = target[:, None, :] + rng.normal(0, 0.06, (len(c), scores.K_OTHERS, dim)).astype(
                np.float32
            )
            cos = np.einsum("md,mkd->mk", target, others) / (
                np.linalg.norm(target, axis=1)[:, None] * np.linalg.norm(others, axis=2)
            )
            d[s : s + 8192] = (1.0 - cos).mean(axis=1)
        phases["distinctiveness_s"] = time.perf_counter() - t0
        return d, ["other_cultures"] * len(centers), [scores.K_OTHERS] * len(centers)

    config = SelectionConfig(theta=theta, linkage=linkage, budget=1000)
    t = time.perf_counter()
    rk = rank_clusters(
        x, ids, config, d_for=d_for, tokens_for=lambda c: rng.integers(50, 400, len(c)), desc="bench"
    )
    select_s = time.perf_counter() - t
    print(
        json.dumps(
            {
                "generate_s": generate_s,
                "select_s": select_s,
                **phases,
                "clusters": len(rk.sizes),
                "largest_cluster": int(rk.sizes.max()),
                "edges": rk.stats["edges"],
                "picked": len(rk.chosen),
                "top_s": float(rk.r[rk.chosen[0]] * rk.d[rk.chosen[0]]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--theta", type=float, default=0.7)
    ap.add_argument("--linkage", default="single")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.n, args.dim, args.theta, args.linkage)
        return
    cmd = [sys.executable, __file__, "--child", "--n", str(args.n), "--dim", str(args.dim)]
    cmd += ["--theta", str(args.theta), "--linkage", args.linkage]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB on Linux
    print(f"n: {args.n}")
    print(f"dim: {args.dim}")
    print(f"linkage: {args.linkage}")
    print("data: synthetic clustered unit vectors (culturalign.select.synthetic)")
    print(f"threads: {os.environ.get('OMP_NUM_THREADS', 'default')}")
    print(f"generate_s: {res['generate_s']:.1f}")
    print(f"select_s: {res['select_s']:.1f}")
    print(f"distinctiveness_s: {res['distinctiveness_s']:.1f}")
    print(f"child_wall_s: {wall:.1f}")
    print(f"peak_rss_gb: {peak_gb:.2f}")
    print(f"clusters: {res['clusters']}")
    print(f"largest_cluster: {res['largest_cluster']}")
    print(f"similar_pairs: {res['edges']}")
    print(f"picked: {res['picked']}")
    print(f"within_10_min: {res['select_s'] <= 600}")
    print(f"within_8_gb: {peak_gb <= 8}")


if __name__ == "__main__":
    main()
