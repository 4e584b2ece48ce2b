"""Bridges to other evaluation tools: tasks and results in lm-evaluation-harness's shapes."""
