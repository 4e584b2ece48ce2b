"""The coordinator's pages: progress per annotator and per culture, items where
annotators disagree, who said what on each item, and adjudication.

An adjudication is the coordinator filling in the same task form the annotators saw
(the same server-side checks apply); it is stored apart from the annotators' answers,
which stay untouched, and exports use it in their place (``exporter.merge``). Every
route here needs a coordinator's session; every POST checks the CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from culturalign.annotate import auth, review, vocab
from culturalign.annotate.order import display_order
from culturalign.annotate.store import Item, Store
from culturalign.annotate.views import (
    _render_task,
    _values_from_payload,
    admin_session,
    parse_task_form,
    read_form,
    render,
)

ADJUDICABLE = (vocab.RANK, vocab.CLASSIFY)


def _store(request: Request) -> Store:
    return request.app.state.store


def _item(store: Store, item_id: int, task: str | None = None) -> Item:
    item = store.item(item_id)
    if item is None or (task is not None and (task not in ADJUDICABLE or not item.has_task(task))):
        raise HTTPException(404, "There is no such item (or task) to review.")
    return item


def _answer_cells(item: Item, viewer_id: int, answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Tables for "who said what": rank/rating per response and label per field, by annotator."""
    order = display_order(viewer_id, item)
    people = sorted({name for by in answers.values() for name in by})
    rank_rows = []
    for r in order:
        cells = []
        for name in people:
            p = answers.get(vocab.RANK, {}).get(name)
            entry = next((e for e in (p or {}).get("responses", []) if e["rid"] == r["rid"]), None)
            if p is not None and p.get("skipped"):
                cells.append("skipped")
            elif entry is None:
                cells.append("–")
            elif entry["not_an_answer"]:
                cells.append(f"#{entry['rank']} · not an answer")
            else:
                cells.append(f"#{entry['rank']} · {entry['rating']}")
        rank_rows.append({"label": r["label"], "text": r["text"], "cells": cells})
    label_rows = []
    for name in vocab.CLASSIFY_FIELDS:
        cells = []
        for person in people:
            p = answers.get(vocab.CLASSIFY, {}).get(person)
            if p is None:
                cells.append("–")
            elif p.get("skipped"):
                cells.append("skipped")
            else:
                value = p.get(name)
                cells.append(
                    "–" if value is None else ("yes" if value is True else "no" if value is False else value)
                )
        label_rows.append({"field": name, "cells": cells})
    return {"people": people, "rank_rows": rank_rows, "label_rows": label_rows}


def install(app: FastAPI) -> None:
    @app.get("/coord")
    def coord_page(request: Request, session: auth.Session = Depends(admin_session)):
        store = _store(request)
        people, cultures = review.progress(store)
        reviews = review.review_items(store)
        flagged = [r for r in reviews if r.disagrees or r.skips or r.comments]
        return render(
            request,
            "coord.html",
            session=session,
            people=people,
            cultures=cultures,
            flagged=flagged,
            n_items=len(reviews),
            spread_flag=review.SPREAD_FLAG,
            per_item=store.per_item,
        )

    @app.get("/coord/items/{item_id}")
    def coord_item(request: Request, item_id: int, session: auth.Session = Depends(admin_session)):
        store = _store(request)
        item = _item(store, item_id)
        [found] = [r for r in review.review_items(store) if r.item.id == item_id]
        decided = store.adjudications()
        decisions = {t: decided.get((item.id, item.version, t)) for t in ADJUDICABLE}
        return render(
            request,
            "coord_item.html",
            session=session,
            item=item,
            c=item.content,
            r=found,
            decisions=decisions,
            tables=_answer_cells(item, session.annotator.id, found.answers),
            adjudicable=[t for t in ADJUDICABLE if item.has_task(t)],
            titles=vocab.TASK_TITLES,
            spread_flag=review.SPREAD_FLAG,
        )

    @app.get("/coord/items/{item_id}/{task}/adjudicate")
    def adjudicate_page(
        request: Request, item_id: int, task: str, session: auth.Session = Depends(admin_session)
    ):
        store = _store(request)
        item = _item(store, item_id, task)
        decision = store.adjudications().get((item.id, item.version, task))
        values = _values_from_payload(decision.payload, task) if decision else {}
        return _render_task(
            request,
            session,
            item,
            task,
            values,
            [],
            200,
            saved=False,
            action=f"/coord/items/{item.id}/{task}/adjudicate",
        )

    @app.post("/coord/items/{item_id}/{task}/adjudicate")
    async def adjudicate(
        request: Request, item_id: int, task: str, session: auth.Session = Depends(admin_session)
    ):
        data = await read_form(request, session)
        store = _store(request)
        item = await run_in_threadpool(_item, store, item_id, task)
        try:
            version = int(data.get("version", ""))
        except ValueError:
            raise HTTPException(400, "The form is missing the item version; reload the page.") from None
        if version != item.version:
            raise HTTPException(409, "This item was re-imported since you opened it; open it again.")
        parsed = parse_task_form({**data, "action": "save"}, session.annotator.id, item, task)
        if not parsed.ok:
            return _render_task(
                request, session, item, task, data, parsed.errors, 422, action=request.url.path
            )
        note = parsed.payload.get("comment") or ""
        await run_in_threadpool(
            store.adjudicate, item.id, item.version, task, session.annotator.id, parsed.payload, note
        )
        return RedirectResponse(f"/coord/items/{item.id}", status_code=303)
