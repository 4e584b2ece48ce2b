"""The main job: an experiment file run as stages in a run directory (issue 10).

``experiment.py`` holds the validated experiment schema (``stage_specs.py`` its
``stages:`` entries, ``checks.py`` the shared field checks), ``graph.py`` orders the
stages by what they read, ``stages.py`` the content-hashed stage bookkeeping (skip what
has not changed, resume what was cut off; ``assets.py`` the built-in prompts in each
fingerprint), ``steps.py``/``steps_synth.py``/``evals_dispatch.py`` build the stages,
``context.py`` is what they share, ``overrides.py`` the shipped experiments and
``--set``, and ``runner.py`` runs them.
"""
