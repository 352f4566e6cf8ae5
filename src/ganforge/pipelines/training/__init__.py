"""Training: one engine (engine.py) and one pipeline serve every GAN variant."""
