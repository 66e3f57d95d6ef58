"""Distillation cells: a frozen teacher, the loss network (K >= 1 students), the training step."""
from ats_ms.distill.cell import LossNet, LossScaledTrainStep, TrainStep
from ats_ms.distill.frozen import FrozenTeacher, freeze
from ats_ms.distill.methods import build_loss, build_loss_net

__all__ = ["LossNet", "LossScaledTrainStep", "TrainStep", "FrozenTeacher", "freeze", "build_loss", "build_loss_net"]
