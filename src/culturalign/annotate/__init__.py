"""The annotation tool: native speakers rank and rate candidate responses, classify
questions and score responses on a rubric, as CARE's data was collected (paper 000 §3.2,
appendix A) and as grounded evaluation asks (paper 003 §6.2).

Modules: ``store`` (database), ``importer`` / ``exporter`` (files), ``agreement``
(kappa and alpha, pure), ``forms`` (checked payloads, pure), ``app`` / ``views`` (the web
app), ``auth`` (one-time links, sessions, CSRF), ``server`` (uvicorn on loopback).
Importing this package imports no web framework.
"""
