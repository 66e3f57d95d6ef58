"""ats_ms.engine.schedule: the ATS paper's warm-up and milestones, poly and cosine, step by step."""
import numpy as np
import pytest

from ats_ms.config.schema import ScheduleConfig
from ats_ms.engine.schedule import create_scheduler


def test_paper_schedule_warmup_and_milestones():
    lrs = create_scheduler(ScheduleConfig(), 0.05, 10)
    assert len(lrs) == 2400
    np.testing.assert_allclose(lrs[:3], [0.001, 0.002, 0.003], rtol=1e-6)  # linear warm-up over 50 steps
    assert lrs[49] == pytest.approx(0.05) and lrs[1499] == pytest.approx(0.05)
    assert lrs[1500] == pytest.approx(0.005) and lrs[1800] == pytest.approx(0.0005)
    assert lrs[2100] == pytest.approx(0.00005) and lrs[-1] == pytest.approx(0.00005)


def test_poly_and_cosine():
    poly = create_scheduler(ScheduleConfig(epochs=10, warmup_epochs=0, policy="poly", power=2.0), 0.03, 10)
    assert poly[0] == pytest.approx(0.03) and poly[50] == pytest.approx(0.03 * 0.25)
    cos = create_scheduler(ScheduleConfig(epochs=10, warmup_epochs=0, policy="cosine", min_lr=0.001), 0.1, 10)
    assert cos[0] == pytest.approx(0.1) and cos[50] == pytest.approx(0.0505) and cos[-1] > 0.001
