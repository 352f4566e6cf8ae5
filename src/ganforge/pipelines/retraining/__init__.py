"""Scheduled batch retraining with a champion/challenger promotion rule."""
