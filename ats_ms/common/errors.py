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


class RunFolderError(AtsError):
    """The run folder cannot be used as asked: another process holds it, it holds another run, a saved
    state does not match the config, or a file could not be written."""


class FolderBusy(RunFolderError):
    """Another live process holds the run folder's lock; ``holder`` describes it (process, host, command)."""

    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


class Interrupted(Exception):
    """A run stopped by SIGINT / SIGTERM after saving its state.  Not an error: ``run_cli`` prints the
    message and exits with the shell's convention for that signal (130 for SIGINT, 143 for SIGTERM),
    so schedulers and shell loops can tell an interrupted run from a finished one."""

    def __init__(self, signum, message, command=None):
        super().__init__(message)
        self.signum = int(signum)
        self.command = command  # the command that continues the work, printed on a line of its own

    @property
    def exit_code(self):
        return 128 + self.signum
