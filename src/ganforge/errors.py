"""Errors a user can cause. Each message says what is wrong and how to fix it."""


def validation_problems(error: Exception, prefix: str) -> str:
    """A pydantic ValidationError as one line: ``prefix.key.path: message; ...``."""
    return "; ".join(f"{prefix}.{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
                     for issue in error.errors())


class GanForgeError(Exception):
    """Base class for problems with data, configuration or files that the user can fix."""


class DataSourceError(GanForgeError):
    """The configured data source is missing, empty, unreadable or malformed."""


class DataValidationError(GanForgeError):
    """The ingested data failed its Great Expectations suite."""


class ConfigError(GanForgeError):
    """A parameter is unknown, out of range or inconsistent with the data."""


class ManifestError(ConfigError):
    """A file given to ``kedro reproduce`` is not a run manifest it accepts (see ganforge.reproduction)."""


class CheckpointError(GanForgeError):
    """A checkpoint's weights do not fit the networks its own model_spec describes."""


class TrainingDivergedError(GanForgeError):
    """A loss became NaN or infinite."""


class BackboneUnavailableError(GanForgeError):
    """No feature backbone can be built for FID (no Inception weights and no labels)."""
