"""Distillation cells: a frozen teacher, loss networks returning named terms, the training step."""
from ats_ms.distill.cell import DistillNet, SupervisedNet, TrainStep
from ats_ms.distill.frozen import FrozenTeacher, freeze

__all__ = ["DistillNet", "SupervisedNet", "TrainStep", "FrozenTeacher", "freeze"]
