"""Open-ended answers rated by a rubric judge or checked by entailment: grounded questions, CultureBank quality, PRISM."""
