"""Backends, one module each; imported only when a spec chooses them."""
