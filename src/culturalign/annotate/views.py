"""Routes of the annotation app: login, the task queue, the three task screens, history,
and the coordinators' agreement page. Every route that shows or changes work checks
that the item is assigned to the logged-in annotator; every POST checks the CSRF token."""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from culturalign.annotate import auth, forms, vocab
from culturalign.annotate.agreement import compute_agreement
from culturalign.annotate.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from culturalign.annotate.order import display_order
from culturalign.annotate.store import Item, StaleItem, Store

_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_FIELDS = 600

# Error pages lead with what happened in plain words, never with a bare status code.
PLAIN_HEADINGS = {
    400: "That did not work",
    401: "Please sign in",
    403: "This page is not open to you",
    404: "There is nothing here",
    405: "That is not something this page does",
    409: "This item changed while you worked on it",
    413: "That was too much to send at once",
    422: "Some answers need another look",
}


class PlainError(HTTPException):
    """An HTTP error with its own plain-language heading for the error page."""

    def __init__(self, status: int, heading: str, message: str):
        super().__init__(status, message)
        self.heading = heading


def _store(request: Request) -> Store:
    return request.app.state.store


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    template = request.app.state.templates.get_template(name)
    ctx.setdefault("session", None)
    ctx.setdefault("title", request.app.state.title)
    return HTMLResponse(template.render(**ctx), status_code=status)


class LoginRequired(Exception):
    pass


def current_session(request: Request) -> auth.Session:
    found = auth.find_session(_store(request), request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired
    return found


def admin_session(session: auth.Session = Depends(current_session)) -> auth.Session:
    if not session.annotator.is_admin:
        raise HTTPException(403, "This page is for coordinators.")
    return session


async def read_form(request: Request, session: auth.Session | None) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    expected = session.csrf_token if session else request.cookies.get(LOGIN_CSRF_COOKIE)
    if not auth.same_token(expected, data.get("csrf_token")):
        raise HTTPException(
            403, "The form's security token is missing or wrong; reload the page and try again."
        )
    return data


def _item_for(store: Store, session: auth.Session, item_id: int, task: str) -> Item:
    """The item, if it is this annotator's and has this task; otherwise a plain 404."""
    item = store.item(item_id)
    if (
        item is None
        or task not in vocab.TASKS
        or not item.has_task(task)
        or not store.is_assigned(session.annotator.id, item_id)
    ):
        raise HTTPException(404, "No such task in your queue.")
    return item


FINISHED = ("done", "skipped")


def _next_task(store: Store, annotator_id: int, after: tuple[int, str] | None = None) -> str:
    """The first unfinished task in the queue (other than ``after``, the one on screen)."""
    for row in store.queue(annotator_id):
        for task, status in row.status.items():
            if status not in FINISHED and (row.item.id, task) != after:
                return f"/items/{row.item.id}/{task}"
    return "/?done=1"


def _position(store: Store, annotator_id: int, item_id: int) -> tuple[int, int]:
    """(k, N): this item is the k-th of the N in the annotator's queue."""
    ids = [row.item.id for row in store.queue(annotator_id)]
    return (ids.index(item_id) + 1 if item_id in ids else 0), len(ids)


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        return render(request, "login_needed.html", 401)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = exc.status_code
        heading = getattr(exc, "heading", None) or PLAIN_HEADINGS.get(code, "Something went wrong")
        message = str(exc.detail)
        if message in ("Not Found", "Method Not Allowed"):  # the framework's own words
            message = "The address may be mistyped, or the page has moved. Go back to your queue."
        session = await run_in_threadpool(
            auth.find_session, _store(request), request.cookies.get(SESSION_COOKIE)
        )
        return render(
            request, "error.html", code, heading=heading, message=message, code=code, session=session
        )

    @app.exception_handler(RequestValidationError)
    async def _bad_address(request: Request, exc: RequestValidationError):
        # /items/abc/rank: a malformed address is a missing page, not a JSON report
        return await _http_error(request, StarletteHTTPException(404, "Not Found"))

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    # --- login -------------------------------------------------------------------
    @app.get("/login/{token}")
    def login_page(request: Request, token: str) -> Response:
        if not auth.well_formed(token):
            raise HTTPException(404, "This is not a login link.")
        csrf = secrets.token_urlsafe(32)
        response = render(request, "login.html", token=token, csrf_token=csrf)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            csrf,
            httponly=True,
            samesite="strict",
            secure=request.app.state.secure_cookies,
            path="/login",
            max_age=3600,
        )
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        data = await read_form(request, None)
        store = _store(request)
        annotator = await run_in_threadpool(auth.redeem_login_token, store, data.get("token", ""))
        if annotator is None:
            heading = await run_in_threadpool(auth.login_failure, store, data.get("token", ""))
            raise PlainError(
                400,
                heading,
                "Each sign-in link works once, for a limited time. Ask your coordinator for a new one.",
            )
        token = await run_in_threadpool(auth.open_session, store, annotator)
        if annotator.is_admin:
            target = "/coord"
        elif not await run_in_threadpool(store.has_seen_guidelines, annotator.id):
            target = "/guidelines?first=1"
        else:
            target = "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.app.state.secure_cookies,
            path="/",
            max_age=int(auth.SESSION_HOURS * 3600),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request, session: auth.Session = Depends(current_session)) -> Response:
        await read_form(request, session)
        await run_in_threadpool(auth.close_session, _store(request), request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- queue -------------------------------------------------------------------
    @app.get("/")
    def queue(request: Request, session: auth.Session = Depends(current_session)) -> Response:
        if session.annotator.is_admin:
            return RedirectResponse("/coord", status_code=303)
        rows = _store(request).queue(session.annotator.id)
        total = sum(len(r.status) for r in rows)
        done = sum(1 for r in rows for s in r.status.values() if s in FINISHED)
        return render(
            request,
            "queue.html",
            session=session,
            rows=rows,
            total=total,
            done=done,
            all_done=request.query_params.get("done") == "1" and done == total,
            titles=vocab.TASK_TITLES,
        )

    @app.get("/guidelines")
    def guidelines(request: Request, session: auth.Session = Depends(current_session)) -> Response:
        store = _store(request)
        first = not session.annotator.is_admin and not store.has_seen_guidelines(session.annotator.id)
        store.mark_guidelines_seen(session.annotator.id)
        return render(request, "guidelines.html", session=session, first=first, vocab=vocab)

    # --- task screens ------------------------------------------------------------
    @app.get("/items/{item_id}/{task}")
    def task_page(
        request: Request, item_id: int, task: str, session: auth.Session = Depends(current_session)
    ):
        store = _store(request)
        item = _item_for(store, session, item_id, task)
        previous = store.current(session.annotator.id, item_id, task)
        values = (
            _values_from_payload(previous.payload, task)
            if previous and previous.item_version == item.version
            else {}
        )
        return _render_task(request, session, item, task, values, [], 200, saved=previous is not None)

    @app.post("/items/{item_id}/{task}")
    async def submit(
        request: Request, item_id: int, task: str, session: auth.Session = Depends(current_session)
    ):
        data = await read_form(request, session)
        store = _store(request)
        item = await run_in_threadpool(_item_for, store, session, item_id, task)
        nonce = data.get("nonce", "")
        if not _NONCE_RE.match(nonce):
            raise HTTPException(400, "The form is missing its submission id; reload the page.")
        try:
            version = int(data.get("version", ""))
        except ValueError:
            raise HTTPException(400, "The form is missing the item version; reload the page.") from None
        parsed = parse_task_form(data, session.annotator.id, item, task)
        if not parsed.ok:
            return _render_task(request, session, item, task, data, parsed.errors, 422)
        try:
            await run_in_threadpool(
                store.submit, session.annotator.id, item_id, version, task, parsed.payload, nonce
            )
        except StaleItem:
            raise HTTPException(
                409,
                "This item was updated while you were working on it. Open it again to see the new version.",
            ) from None
        target = await run_in_threadpool(_next_task, store, session.annotator.id)
        return RedirectResponse(target, status_code=303)

    @app.get("/items/{item_id}/{task}/history")
    def history(request: Request, item_id: int, task: str, session: auth.Session = Depends(current_session)):
        store = _store(request)
        item = _item_for(store, session, item_id, task)
        subs = store.submissions(annotator_id=session.annotator.id, item_id=item_id, task=task)
        order = display_order(session.annotator.id, item)
        labels = {r["rid"]: r["label"] for r in order}
        return render(
            request,
            "history.html",
            session=session,
            item=item,
            task=task,
            subs=list(reversed(subs)),
            labels=labels,
            titles=vocab.TASK_TITLES,
        )

    # --- coordinators ------------------------------------------------------------
    @app.get("/agreement")
    def agreement_page(request: Request, session: auth.Session = Depends(admin_session)):
        store = _store(request)
        report = compute_agreement(store.judgments())
        people = store.annotators()
        return render(
            request, "agreement.html", session=session, report=report, people=people, per_item=store.per_item
        )

    @app.get("/agreement.json")
    def agreement_json(request: Request, session: auth.Session = Depends(admin_session)):
        return JSONResponse(compute_agreement(_store(request).judgments()).as_dict())


def parse_task_form(data: dict[str, str], viewer_id: int, item: Item, task: str) -> forms.Parsed:
    """A task form (or its "skip" button) as a checked payload, comment included."""
    if data.get("action") == "skip":
        return forms.parse_skip_form(data)
    order = display_order(viewer_id, item)
    rids = [r["rid"] for r in order]
    labels = {r["rid"]: r["label"] for r in order}
    if task == vocab.RANK:
        parsed = forms.parse_rank_form(data, rids, labels)
    elif task == vocab.RUBRIC:
        parsed = forms.parse_rubric_form(data, rids, labels)
    else:
        parsed = forms.parse_classify_form(data)
    return forms.with_comment(parsed, data)


def _values_from_payload(payload: dict[str, Any], task: str) -> dict[str, str]:
    """Turn a stored payload back into form values, to pre-fill an edit."""
    values: dict[str, str] = {}
    if payload.get("comment"):
        values["comment"] = payload["comment"]
    if payload.get("skipped"):
        values["skip_reason"] = payload.get("skip_reason") or ""
        return values
    if task == vocab.CLASSIFY:
        related = payload.get("culture_related")
        values["culture_related"] = "yes" if related else "no"
        for name in ("associated_culture", "category", "geographic_scope"):
            if payload.get(name):
                values[name] = payload[name]
        for name in ("moral_sensitive", "temporal_sensitive"):
            if payload.get(name):
                values[name] = "on"
        return values
    for e in payload.get("responses", []):
        rid = e["rid"]
        if task == vocab.RANK:
            values[f"rank_{rid}"] = str(e["rank"])
            if e.get("rating") is not None:
                values[f"rating_{rid}"] = str(e["rating"])
            if e.get("not_an_answer"):
                values[f"na_{rid}"] = "on"
        else:
            for key in vocab.RUBRIC_KEYS:
                if e.get(key) is not None:
                    values[f"{key}_{rid}"] = str(e[key])
    return values


def _render_task(
    request: Request,
    session: auth.Session,
    item: Item,
    task: str,
    values: dict[str, str],
    errors: list[str],
    status: int,
    saved: bool = False,
    action: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A task screen; coordinators reuse it to adjudicate (``action`` and ``extra``)."""
    order = display_order(session.annotator.id, item)
    if task == vocab.RANK:
        # show responses in the ranking being edited, else in this annotator's random order
        def position(r: dict[str, str]) -> int:
            try:
                return int(values.get(f"rank_{r['rid']}", ""))
            except ValueError:
                return 10_000 + order.index(r)

        order = sorted(order, key=position)
    store = _store(request)
    if action is None:
        k, n = _position(store, session.annotator.id, item.id)
        next_url = _next_task(store, session.annotator.id, after=(item.id, task))
    else:
        k = n = 0
        next_url = "/coord"
    return render(
        request,
        f"{task}.html",
        status,
        session=session,
        item=item,
        task=task,
        c=item.content,
        responses=order,
        values=values,
        errors=errors,
        nonce=secrets.token_urlsafe(16),
        saved=saved,
        vocab=vocab,
        titles=vocab.TASK_TITLES,
        action=action or f"/items/{item.id}/{task}",
        adjudicating=action is not None,
        position=k,
        queue_size=n,
        next_url=next_url,
        extra=extra or {},
    )
