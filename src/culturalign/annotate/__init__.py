"""The annotation tool: native speakers rank and rate candidate responses, classify
questions and score responses on a rubric, as CARE's data was collected (paper 000 §3.2,
appendix A) and as grounded evaluation asks (paper 003 §6.2).

Modules: ``store`` (database), ``team`` (annotators' cultures and languages,
adjudications), ``assign`` (routing and balancing), ``importer`` / ``exporter`` (files),
``agreement`` (kappa and alpha with bootstrap intervals, pure), ``review`` (progress and
disagreements for the coordinator), ``forms`` (checked payloads, pure), ``app`` /
``views`` / ``coord`` (the web app: annotators' pages, the coordinator's pages), ``auth``
(one-time links, sessions, CSRF), ``server`` (uvicorn on loopback).
Importing this package imports no web framework.
"""

from culturalign.extras import require

# Before any submodule: the web app and its store need the [annotate] extra, and saying so
# here turns "No module named 'sqlalchemy'" into the install line.
require(
    "annotate",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "jinja2",
    "multipart",
    "krippendorff",
    why="for the annotation tool",
)
