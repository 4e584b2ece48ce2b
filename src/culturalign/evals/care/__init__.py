"""CARE: judged ratings on 1-10 against the human reference, and the judge-free reference choice."""
