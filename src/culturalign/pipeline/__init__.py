"""The main job: an experiment file run as stages in a run directory (issue 10).

``experiment.py`` holds the validated experiment schema, ``stages.py`` the
content-hashed stage bookkeeping (skip what has not changed, resume what was cut
off), and ``runner.py`` turns an experiment into stages and runs them.
"""
