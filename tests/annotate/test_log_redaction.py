"""Sign-in tokens never reach the server log (issue 17 item 5): the access log of a real
``annotate serve`` shows a short hash where the token was."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from culturalign.annotate.server import RedactLoginTokens, free_port

from .helpers import make_store


def test_filter_rewrites_the_access_log_record():
    token = "Zx9_secret-token-value-0123456789abcdefABCDEF"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5555", "GET", f"/login/{token}?next=1", "1.1", 200),
        None,
    )
    assert RedactLoginTokens().filter(record)
    line = record.getMessage()
    short = hashlib.sha256(token.encode()).hexdigest()[:8]
    assert token not in line
    assert f'"GET /login/#{short}?next=1 HTTP/1.1" 200' in line


def test_real_server_log_has_no_token(tmp_path):
    store = make_store(tmp_path)
    db = str(tmp_path / "annotations.sqlite")
    store.dispose()
    port = free_port()
    token = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0UvWx"  # not issued: the app answers 404
    proc = subprocess.Popen(
        [sys.executable, "-m", "culturalign", "annotate", "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}/login/{token}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except urllib.error.HTTPError:
                break  # the server answered (404 for an unknown token): the request was logged
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        log, _ = proc.communicate(timeout=30)
    short = hashlib.sha256(token.encode()).hexdigest()[:8]
    assert f"GET /login/#{short} HTTP/1.1" in log, log
    assert token not in log
