"""The LM layer's tests use the session-wide `serve_url` / `served_spec` fixtures of
tests/conftest.py: a real ``transformers serve`` on loopback with the embedded model."""
