"""Benchmarks scored from option log-probabilities: opinion distributions, CulturalBench, CALI, multiple choice."""
