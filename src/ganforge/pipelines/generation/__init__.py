"""``kedro run --pipeline=generate_<variant>``: images from a trained model, no training."""
