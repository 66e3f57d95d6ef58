"""Training machinery: the trainer, run folders, checkpoints, callbacks, schedules, evaluation."""
