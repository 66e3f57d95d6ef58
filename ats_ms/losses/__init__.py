"""Distillation losses.  The ATS loss and its soft label live in ``ats_ms/losses/ats.py``."""
from ats_ms.losses.ats import (ATSLoss, KDLoss, ats_log_soft_targets, ats_soft_targets, ats_temperatures,
                               standardize)
from ats_ms.losses.ce import CELoss
from ats_ms.losses.dkd import DKDLoss
from ats_ms.losses.isats import ISATSLoss

__all__ = ["ATSLoss", "KDLoss", "CELoss", "ISATSLoss", "DKDLoss", "ats_soft_targets", "ats_log_soft_targets",
           "ats_temperatures", "standardize"]
