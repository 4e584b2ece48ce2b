"""CAReDiO's data selection (paper 002 §3.3) and what follows it.

* ``cluster`` / ``pairs``: threshold clustering by cosine similarity, exact and scalable;
* ``scores``: representativeness, distinctiveness, s = r·d, budgets (pure functions);
* ``caredio``: the selection stage; ``incontext``: in-context representativeness;
* ``data``: synthesized samples or human data (CARE pairs and questions) as input;
* ``export``: SFT rows and DPO pairs (§3.4); ``analysis``: the figures of §5.3;
* ``stage``: ``culturalign select`` as a library call.

Nothing heavy is imported here.
"""
