"""Distillation losses.  The ATS loss and its soft label live in ``ats_ms/losses/ats.py``."""
from ats_ms.losses.ats import (ATSLoss, KDLoss, ats_log_soft_targets, ats_soft_targets, ats_temperatures,
                               standardize)
from ats_ms.losses.ce import CELoss
from ats_ms.losses.ctkd import CTKDLoss
from ats_ms.losses.dist import DISTLoss
from ats_ms.losses.dkd import DKDLoss
from ats_ms.losses.isats import ISATSLoss
from ats_ms.losses.ttm import TTMLoss

__all__ = ["ATSLoss", "KDLoss", "CELoss", "CTKDLoss", "DISTLoss", "ISATSLoss", "DKDLoss", "TTMLoss",
           "ats_soft_targets", "ats_log_soft_targets", "ats_temperatures", "standardize"]
