"""MLflow metric histories from a run's training history, score curve and final scores."""
