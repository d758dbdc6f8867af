"""Synthetic data: the seeded generator of raw exports and the defect classes it plants."""
