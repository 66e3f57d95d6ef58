"""User-facing error types.  Entry points print these as one paragraph, without a traceback."""


class AtsError(Exception):
    """Base: a problem the user can fix (bad config, missing data, wrong checkpoint, diverged loss)."""


class ConfigError(AtsError):
    pass


class DatasetError(AtsError):
    pass


class CheckpointError(AtsError):
    pass


class TrainingDiverged(AtsError):
    pass
