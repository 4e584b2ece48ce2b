"""A local stand-in for the parts of the Hugging Face Hub API that ``create_repo`` and
``create_commit``/``upload_folder`` call, on 127.0.0.1, so push tests never touch the
network. It keeps every repo's files in memory and logs each request it was sent.

Small files only: ``preupload`` answers "regular" for everything, so huggingface_hub
sends file contents inline (base64 in the NDJSON commit body) instead of through LFS.
"""

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class HubState:
    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # "type/id" -> {"files": {...}}
    calls: list[str] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)  # README texts sent to validate-yaml
    token: str = "hf_test_token"


def make_app(state: HubState):
    app = FastAPI()

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {state.token}"

    @app.middleware("http")
    async def log_calls(request: Request, call_next):
        state.calls.append(f"{request.method} {request.url.path}")
        if not authorised(request):
            return JSONResponse({"error": "Invalid credentials in Authorization header"}, status_code=401)
        return await call_next(request)

    @app.post("/api/repos/create")
    async def create(request: Request):
        body = await request.json()
        repo_type = body.get("type") or "model"
        name = body["name"] if not body.get("organization") else f"{body['organization']}/{body['name']}"
        key = f"{repo_type}/{name}"
        if key in state.repos:
            prefix = "" if repo_type == "model" else f"{repo_type}s/"
            url = f"{str(request.base_url).rstrip('/')}/{prefix}{name}"
            return JSONResponse({"error": "You already created this repo", "url": url}, status_code=409)
        state.repos[key] = {"files": {}, "private": bool(body.get("private"))}
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return {"url": f"{str(request.base_url).rstrip('/')}/{prefix}{name}", "name": name}

    @app.post("/api/validate-yaml")
    async def validate_yaml(request: Request):
        body = await request.json()
        state.validated.append(body.get("content", ""))
        return {"errors": [], "warnings": []}

    @app.post("/api/{repo_type}s/{owner}/{name}/preupload/{revision}")
    async def preupload(repo_type: str, owner: str, name: str, revision: str, request: Request):
        body = await request.json()
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in body["files"]]
        return {"files": files, "commitOid": "0" * 40}

    @app.post("/api/{repo_type}s/{owner}/{name}/commit/{revision}")
    async def commit(repo_type: str, owner: str, name: str, revision: str, request: Request):
        key = f"{repo_type}/{owner}/{name}"
        if key not in state.repos:
            return JSONResponse({"error": f"Repository {owner}/{name} not found"}, status_code=404)
        raw = (await request.body()).decode()
        files = state.repos[key]["files"]
        header: dict[str, Any] = {}
        for line in raw.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if item["key"] == "header":
                header = item["value"]
            elif item["key"] == "file":
                value = item["value"]
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "deletedFile":
                files.pop(item["value"]["path"], None)
        state.repos[key]["message"] = header.get("summary")
        oid = f"{len(state.calls):040x}"
        return {"commitUrl": f"{str(request.base_url).rstrip('/')}/{owner}/{name}/commit/{oid}", "commitOid": oid,
                "success": True, "pullRequestUrl": None}  # fmt: skip

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HubStandIn:
    """Runs the app with uvicorn in a background thread; ``url`` is its endpoint."""

    def __init__(self) -> None:
        import uvicorn

        self.state = HubState()
        self.port = free_port()
        config = uvicorn.Config(make_app(self.state), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "HubStandIn":
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def files(self, repo_id: str, repo_type: str = "dataset") -> dict[str, bytes]:
        return self.state.repos[f"{repo_type}/{repo_id}"]["files"]
