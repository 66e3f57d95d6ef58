"""Distillation cells: a frozen teacher, loss networks returning named terms, the training step."""
from ats_ms.distill.cell import CachedDistillNet, DistillNet, LossScaledTrainStep, SupervisedNet, TrainStep
from ats_ms.distill.frozen import FrozenTeacher, freeze

__all__ = ["CachedDistillNet", "DistillNet", "LossScaledTrainStep", "SupervisedNet", "TrainStep", "FrozenTeacher", "freeze"]
