"""Load on loopback: 20 annotators submit 50 judgments each at once against a real
uvicorn server and the SQLite (WAL) database. Nothing may be lost or duplicated (some
forms are sent twice, as a double click would), and the agreement computed from the
database must equal a recount from what the clients sent."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import krippendorff
import numpy as np
import pytest
from sqlalchemy import func, select

from culturalign.annotate import db
from culturalign.annotate.agreement import compute_agreement
from culturalign.annotate.auth import issue_login_link
from culturalign.annotate.server import BackgroundServer

from .helpers import hidden_fields, make_store

ANNOTATORS = 20
ITEMS = 25  # x 2 tasks (rank, classify) = 50 submissions per annotator
REPLAYS = 5  # per annotator: forms sent a second time with the same nonce
CATEGORIES = ["cultural_entities", "opinion", "social_norms", "cultural_commonsense", "literacy"]
RID_RE = re.compile(r'data-rid="([0-9a-f]{12})"')

pytestmark = pytest.mark.slow


def _questions():
    rows = []
    for i in range(ITEMS):
        rows.append(
            {
                "id": f"load-{i:02d}",
                "text": f"Load question {i}: what is customary here?",
                "language": "en",
                "culture": "Testland",
                "category": CATEGORIES[i % 5],
                "reference_answer": f"Reference {i}",
                "responses": [{"producer": f"m{j}", "text": f"answer {j} to question {i}"} for j in range(4)],
            }
        )
    return rows


def _annotate(server_url: str, link: str, seed: int, start: threading.Barrier) -> list[dict]:
    """One annotator's session: sign in, then GET and POST every task in the queue."""
    rng = random.Random(seed)
    sent = []
    with httpx.Client(base_url=server_url, timeout=60) as client:
        page = client.get(link[len(server_url) :])
        assert client.post("/login", data=hidden_fields(page.text)).status_code == 303
        queue = client.get("/").text
        tasks = re.findall(r'href="/items/(\d+)/(rank|classify)"', queue)
        assert len(tasks) == 2 * ITEMS
        start.wait()
        for n, (item_id, task) in enumerate(tasks):
            page = client.get(f"/items/{item_id}/{task}")
            form = hidden_fields(page.text)
            truth = int(item_id)
            if task == "rank":
                rids = RID_RE.findall(page.text)
                quality = {rid: (int(rid[:6], 16) + truth) % 7 + 2 for rid in rids}
                scores = {rid: min(10, max(1, quality[rid] + rng.choice([-1, 0, 0, 1]))) for rid in rids}
                order = sorted(rids, key=lambda r: (-scores[r], r))
                worst_is_na = rng.random() < 0.15
                entries = []
                for rank, rid in enumerate(order, start=1):
                    na = worst_is_na and rank == len(order)
                    form[f"rank_{rid}"] = str(rank)
                    if na:
                        form[f"na_{rid}"] = "on"
                    else:
                        form[f"rating_{rid}"] = str(scores[rid])
                    entries.append(
                        {"rid": rid, "rank": rank, "rating": None if na else scores[rid], "not_an_answer": na}
                    )
                payload = {"responses": entries}
            else:
                category = CATEGORIES[truth % 5] if rng.random() < 0.8 else rng.choice(CATEGORIES)
                related = rng.random() < 0.9
                if related:
                    form.update(
                        culture_related="yes",
                        associated_culture="native",
                        category=category,
                        geographic_scope=rng.choice(["national", "national", "sub_national"]),
                    )
                    payload = {
                        "culture_related": True,
                        "associated_culture": "native",
                        "category": category,
                        "geographic_scope": form["geographic_scope"],
                        "moral_sensitive": False,
                        "temporal_sensitive": False,
                    }
                else:
                    form["culture_related"] = "no"
                    payload = {
                        "culture_related": False,
                        "associated_culture": None,
                        "category": None,
                        "geographic_scope": None,
                        "moral_sensitive": None,
                        "temporal_sensitive": None,
                    }
            r = client.post(f"/items/{item_id}/{task}", data=form)
            assert r.status_code == 303, r.text
            if n < REPLAYS:  # a double click: the same form again
                assert client.post(f"/items/{item_id}/{task}", data=form).status_code == 303
            sent.append({"item_id": int(item_id), "task": task, "payload": payload})
    return sent


def _recount_alpha(sent_by: dict[str, list[dict]], keys: dict[int, str]) -> float:
    cells = defaultdict(dict)
    for who, sent in sent_by.items():
        for s in sent:
            if s["task"] == "rank":
                for e in s["payload"]["responses"]:
                    if e["rating"] is not None:
                        cells[(keys[s["item_id"]], e["rid"])][who] = e["rating"]
    coders = sorted(sent_by)
    data = np.array([[cells[c].get(a, np.nan) for c in sorted(cells)] for a in coders], dtype=float)
    return krippendorff.alpha(
        reliability_data=data, value_domain=list(range(1, 11)), level_of_measurement="ordinal"
    )


def _recount_fleiss(sent_by: dict[str, list[dict]]) -> float:
    labels = defaultdict(list)
    for sent in sent_by.values():
        for s in sent:
            if s["task"] == "classify" and s["payload"]["category"] is not None:
                labels[s["item_id"]].append(s["payload"]["category"])
    table = np.array(
        [[row.count(c) for c in CATEGORIES] for row in labels.values() if len(row) >= 2], dtype=float
    )
    n = table.sum(axis=1)
    p_bar = (((table * (table - 1)).sum(axis=1)) / (n * (n - 1))).mean()
    p_e = ((table.sum(axis=0) / n.sum()) ** 2).sum()
    return (p_bar - p_e) / (1 - p_e)


def test_twenty_annotators_fifty_submissions_each(tmp_path):
    run_load(tmp_path)


def run_load(tmp_path, database: str | None = None) -> None:
    people = [f"annotator-{i:02d}" for i in range(ANNOTATORS)]
    store = make_store(tmp_path, _questions(), per_item=ANNOTATORS, people=people, database=database)
    with BackgroundServer(store) as server:
        links = {p: issue_login_link(store, store.annotator(name=p), server.url) for p in people}
        start = threading.Barrier(ANNOTATORS)
        began = time.perf_counter()
        with ThreadPoolExecutor(ANNOTATORS) as pool:
            futures = {
                p: pool.submit(_annotate, server.url, links[p], i, start) for i, p in enumerate(people)
            }
            sent_by = {p: f.result() for p, f in futures.items()}
        elapsed = time.perf_counter() - began

        boss = httpx.Client(base_url=server.url)
        link = issue_login_link(store, store.annotator(name="boss"), server.url)
        boss.post("/login", data=hidden_fields(boss.get(link[len(server.url) :]).text))
        served = boss.get("/agreement.json").json()

    expected_rows = ANNOTATORS * 2 * ITEMS
    assert sum(len(s) for s in sent_by.values()) == expected_rows
    sub = db.submissions
    with store.read() as conn:
        total = conn.scalar(select(func.count()).select_from(sub))
        distinct = conn.scalar(
            select(func.count()).select_from(
                select(sub.c.annotator_id, sub.c.item_id, sub.c.task).distinct().subquery()
            )
        )
        current = conn.scalar(select(func.count()).select_from(sub).where(sub.c.is_current == 1))
    assert (total, distinct, current) == (
        expected_rows,
        expected_rows,
        expected_rows,
    )  # none lost, none doubled

    stored = {(s.annotator, s.item_id, s.task): s.payload for s in store.submissions()}
    for who, sent in sent_by.items():
        for s in sent:
            assert stored[(who, s["item_id"], s["task"])] == s["payload"]

    keys = {i.id: i.key for i in store.items()}
    report = compute_agreement(store.judgments())
    figures = {f.name: f for f in report.overall}
    assert figures["rating"].value == pytest.approx(_recount_alpha(sent_by, keys), abs=1e-12)
    assert figures["category"].method == "Fleiss' kappa"
    assert figures["category"].value == pytest.approx(_recount_fleiss(sent_by), abs=1e-12)
    assert figures["rating"].n_annotators == ANNOTATORS
    # the coordinators' page serves the same figures
    served_figures = {f["name"]: f["value"] for f in served["overall"]}
    assert served_figures["rating"] == pytest.approx(figures["rating"].value, abs=1e-12)
    assert served_figures["category"] == pytest.approx(figures["category"].value, abs=1e-12)
    assert len(served["per_item"]) == ITEMS
    print(
        f"\nload: {expected_rows} submissions + {ANNOTATORS * REPLAYS} replays (with a page load before each) "
        f"in {elapsed:.1f}s; rating alpha {figures['rating'].value:.3f}, category kappa {figures['category'].value:.3f}"
    )
