"""Sampling and scoring (FID / FD-classifier, KID, precision/recall)."""
