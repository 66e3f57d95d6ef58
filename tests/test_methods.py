"""Capacity-mismatch methods against hand-computed (numpy) references, and end to end on tiny data."""
import os

import numpy as np
import pytest

import mindspore as ms

from ats_ms.config import load_config
from ats_ms import methods
from ats_ms.config.schema import METHODS
from ats_ms.engine.trainer import train
from ats_ms.common.errors import ConfigError
from ats_ms.losses import ATSLoss, DKDLoss, ISATSLoss
from ats_ms.losses.isats import candidate_temperatures
from train_helpers import tiny_overrides

T = np.array([[5, 3, 1, -1], [0.5, 2.0, -1.0, 1.0], [1.0, 4.0, 0.0, 2.0]], np.float32)
S = np.array([[1, 0.5, 0, -0.5], [0, 1, 0, 0], [0.2, 0.1, -0.3, 0.4]], np.float32)
Y = np.array([0, 1, 0], np.int32)


def softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ats_np(z, y, t1, t2):
    tau = np.full(z.shape, float(t2))
    tau[np.arange(len(y)), y] = t1
    return softmax(z.astype(np.float64) / tau)


def soft_ce(p, s, tau_s=1.0):
    return float((-(p * np.log(softmax(s.astype(np.float64) / tau_s))).sum(-1)).mean() * tau_s ** 2)


def _t(a):
    return ms.Tensor(a)


def test_the_schema_takes_its_methods_from_the_registry():
    assert set(METHODS) == {"none", "ts", "kd", "ats", "isats", "dkd", "dist", "ls", "ctkd", "ttm", "wttm"} == \
        set(methods.names())
    assert sorted(section for section, _ in methods.sections()) == ["ctkd", "dist", "dkd", "isats", "ls", "ttm"]


def test_guard_falls_back_to_ts_only_where_ats_loses_the_target():
    ats = ats_np(T, Y, 4, 2)
    ts = ats_np(T, Y, 4, 4)
    expected = np.where((ats[np.arange(3), Y] >= np.where(np.eye(4)[Y] > 0, -1, ats).max(-1))[:, None], ats, ts)
    assert not np.array_equal(expected[0], ats[0]) and np.array_equal(expected[1], ats[1])  # row 0 loses its target
    loss = ATSLoss(4, 2, keep_target_top=True)
    p = np.exp(loss.teacher_log_probs(_t(T), _t(Y)).asnumpy())
    np.testing.assert_allclose(p, expected, atol=1e-6)
    np.testing.assert_allclose(loss.terms(_t(S), _t(T), _t(Y))[2].asnumpy(), soft_ce(expected, S), atol=1e-5)


def test_logit_standardisation():
    def z(a):
        return (a - a.mean(-1, keepdims=True)) / (a.std(-1, ddof=1, keepdims=True) + 1e-7)
    p = softmax(z(T.astype(np.float64)) / 2.0)
    q = softmax(z(S.astype(np.float64)) / 2.0)
    kl = (p * (np.log(p) - np.log(q))).sum(-1).mean() * 4.0
    loss = ATSLoss(2, 2, 2, 0.1, 9.0, "kl", logit_standardize=True)
    np.testing.assert_allclose(loss.terms(_t(S), _t(T), _t(Y))[2].asnumpy(), kl, atol=1e-5)


def test_isats_picks_the_most_discriminative_admissible_temperature():
    loss = ISATSLoss(tau_target=4.0, tau_min=0.5, num_candidates=8)
    chosen, index = loss.choose(_t(T), _t(Y))
    candidates = candidate_temperatures(0.5, 4.0, 8)
    for i in range(len(Y)):
        best, best_var = len(candidates) - 1, -1.0
        for k, t2 in enumerate(candidates):
            p = ats_np(T[i:i + 1], Y[i:i + 1], 4.0, t2)[0]
            wrong = np.delete(p, Y[i])
            if p[Y[i]] >= wrong.max() and wrong.var() > best_var:
                best, best_var = k, wrong.var()
        assert int(index.asnumpy()[i]) == best, i
        np.testing.assert_allclose(np.exp(chosen.asnumpy()[i]), ats_np(T[i:i + 1], Y[i:i + 1], 4.0, candidates[best])[0],
                                   atol=1e-6)
    p = np.exp(chosen.asnumpy())
    for i in (0, 1):  # where the teacher is right, the chosen soft label keeps the target on top
        assert p[i, Y[i]] >= np.delete(p[i], Y[i]).max() - 1e-7
    # the teacher is wrong on sample 2 (class 1 beats class 0 at every tau2): TS fallback
    assert int(index.asnumpy()[2]) == 7


def test_dkd_matches_the_decoupled_formula():
    t_, s_ = T.astype(np.float64) / 4, S.astype(np.float64) / 4
    pt, ps = softmax(t_), softmax(s_)
    idx = np.arange(3)
    bt = np.stack([pt[idx, Y], 1 - pt[idx, Y]], -1)
    bs = np.stack([ps[idx, Y], 1 - ps[idx, Y]], -1)
    tckd = (bt * np.log(bt / bs)).sum(-1).mean() * 16
    mask = np.eye(4)[Y] > 0
    qt = softmax(np.where(mask, -np.inf, t_))
    qs = softmax(np.where(mask, -np.inf, s_))
    nckd = np.nansum(np.where(mask, 0, qt * np.log(np.where(mask, 1, qt) / np.where(mask, 1, qs))), -1).mean() * 16
    ce = -np.log(softmax(S.astype(np.float64))[idx, Y]).mean()
    loss = DKDLoss(alpha=1.0, beta=8.0, temperature=4.0, ce_weight=1.0, warmup_epochs=20)
    loss.set_epoch(5)  # warm-up weight 5 / 20
    total, ce_ms, kd, tckd_ms, nckd_ms = (x.asnumpy() for x in loss.terms(_t(S), _t(T), _t(Y)))
    np.testing.assert_allclose([tckd_ms, nckd_ms, ce_ms], [tckd, nckd, ce], atol=1e-5)
    np.testing.assert_allclose(total, ce + 0.25 * (tckd + 8 * nckd), atol=1e-5)
    confident = DKDLoss().terms(_t(S), _t(T * 100), _t(Y))  # p_t -> 1 must not give NaN
    assert all(np.isfinite(x.asnumpy()) for x in confident)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("methods"))
    train(load_config(None, tiny_overrides(out, "teacher", "resnet8", epochs=1)))
    return out, os.path.join(out, "teacher", "best.ckpt")


@pytest.mark.parametrize("name,extra", [
    ("isats", {"distill.method": "isats", "distill.isats.tau_min": 1.0}),
    ("dkd", {"distill.method": "dkd", "distill.ce_weight": 1.0, "distill.dkd.warmup_epochs": 2}),
    ("ats_guard_ls", {"distill.method": "ats", "distill.keep_target_top": True, "distill.logit_standardize": True}),
])
def test_methods_train_end_to_end(tiny_teacher, name, extra):
    out, ckpt = tiny_teacher
    summary = train(load_config(None, tiny_overrides(out, name, "resnet8", epochs=2, **{
        "teacher.arch": "resnet8", "teacher.checkpoint": ckpt, **extra})))
    assert summary["best_top1"] > 20 and summary["method"] == extra["distill.method"]
    log = open(os.path.join(out, name, "train.log")).read()
    assert " kd " in log
    if name == "dkd":
        assert " tckd " in log and " nckd " in log


def test_cached_teacher_logits(tiny_teacher):
    out, ckpt = tiny_teacher
    common = {"teacher.arch": "resnet8", "teacher.checkpoint": ckpt, "distill.method": "ats", "data.augment": False}
    with pytest.raises(ConfigError, match="needs every epoch to show the same images"):
        load_config(None, tiny_overrides(out, "c", epochs=1, **dict(common, **{"data.augment": True,
                                                                             "distill.cache_teacher_logits": True})))
    cached = train(load_config(None, tiny_overrides(out, "cached", epochs=2, **dict(
        common, **{"distill.cache_teacher_logits": True}))))
    plain = train(load_config(None, tiny_overrides(out, "plain", epochs=2, **common)))
    assert cached["steps"] == plain["steps"] == 2 * (1438 // 64)
    assert cached["best_top1"] > 20
    assert "cached teacher logits for 1438 training images" in open(os.path.join(out, "cached", "train.log")).read()


def test_the_worked_example_method_trains_end_to_end(tiny_teacher, tmp_path):
    """The method module written in docs/methods.md, added to the methods package, works with nothing else
    changed: its section, its check, its setup line, its logged terms."""
    import json
    import subprocess
    import sys
    from conftest import REPO
    page = open(os.path.join(REPO, "docs", "methods.md"), encoding="utf-8").read()
    example = page.split("<!-- worked-example:start -->")[1].split("<!-- worked-example:end -->")[0]
    folder = tmp_path / "more_methods"
    folder.mkdir()
    (folder / "logit_mse.py").write_text(example.split("```python\n")[1].split("```")[0])
    out, ckpt = tiny_teacher
    code = ("import sys\nimport ats_ms.methods as m\nm.__path__.append(sys.argv[1])\nm.discover()\n"
            "from ats_ms.cli import run_cli\nfrom ats_ms.train import main\nsys.exit(run_cli(main, sys.argv[2:]))\n")
    args = tiny_overrides(str(tmp_path), "mse", "resnet8", epochs=1, **{
        "teacher.arch": "resnet8", "teacher.checkpoint": ckpt, "distill.method": "logit_mse",
        "distill.ce_weight": 0.5, "distill.logit_mse.weight": 0.1})
    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.run([sys.executable, "-c", code, str(folder)] + args, capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "method    logit_mse: 0.5 CE + 0.1 x MSE(logits)" in proc.stdout
    record = [json.loads(line) for line in open(tmp_path / "mse" / "metrics.jsonl")][-1]
    assert record["train_kd"] > 0 and record["train_ce"] > 0
    refused = subprocess.run([sys.executable, "-c", code, str(folder)] + args + ["distill.logit_mse.weight=-1"],
                             capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert refused.returncode == 2 and "'distill.logit_mse.weight' must be >= 0" in refused.stderr
