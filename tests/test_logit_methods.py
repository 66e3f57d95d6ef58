"""DIST, logit standardization, CTKD and TTM / WTTM, each against a reference written here from its paper's equations
(numpy, float64, independent of the loss cells) on random logits; CTKD's learnable temperature and its gradient
reversal against a finite difference of the reference; and each trained a few steps end to end on digits."""
import json
import math
import os

import numpy as np
import pytest

import mindspore as ms
from mindspore import nn, ops

from ats_ms.config import load_config
from ats_ms.engine.checkpoint import read_meta
from ats_ms.engine.trainer import train
from ats_ms.losses import CTKDLoss, DISTLoss, DKDLoss, TTMLoss
from ats_ms.losses.ats import ATSLoss
from ats_ms.losses.ctkd import curriculum
from train_helpers import tiny_overrides

RNG = np.random.RandomState(7)
S = RNG.randn(16, 10).astype(np.float32) * 2
T = RNG.randn(16, 10).astype(np.float32) * 5          # a confident teacher
Y = RNG.randint(0, 10, 16).astype(np.int32)


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ce(s, y):
    return float(-np.log(softmax(s.astype(np.float64))[np.arange(len(y)), y]).mean())


def kl(p, q):
    return (p * (np.log(p) - np.log(q))).sum(-1)


def _values(terms):
    return [float(t.asnumpy()) for t in terms]


def test_dist_is_the_papers_inter_and_intra_class_pearson_relations():
    """Huang et al. 2022, Eq. 5-9: d_p(u, v) = 1 - pearson(u, v); L_inter = tau^2 mean_i d_p(Y_s[i], Y_t[i]),
    L_intra = tau^2 mean_j d_p(Y_s[:, j], Y_t[:, j])."""
    def pearson(u, v):
        u, v = u - u.mean(), v - v.mean()
        return (u * v).sum() / (np.sqrt((u * u).sum()) * np.sqrt((v * v).sum()))

    tau, beta, gamma = 4.0, 2.0, 3.0
    ys, yt = softmax(S.astype(np.float64) / tau), softmax(T.astype(np.float64) / tau)
    inter = tau ** 2 * np.mean([1 - pearson(ys[i], yt[i]) for i in range(len(ys))])
    intra = tau ** 2 * np.mean([1 - pearson(ys[:, j], yt[:, j]) for j in range(ys.shape[1])])
    total, ce_term, kd, got_inter, got_intra = _values(DISTLoss(beta, gamma, tau, ce_weight=1.0).terms(
        ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y)))
    np.testing.assert_allclose([got_inter, got_intra, kd], [inter, intra, beta * inter + gamma * intra], rtol=1e-4)
    np.testing.assert_allclose([ce_term, total], [ce(S, Y), ce(S, Y) + beta * inter + gamma * intra], rtol=1e-4)


def test_logit_standardization_is_kd_on_z_scored_logits():
    """Sun et al. 2024, Eq. 8-9: Z(z) = (z - mean(z)) / std(z), then KD at the base temperature."""
    def z(a):
        a = a.astype(np.float64)
        return (a - a.mean(-1, keepdims=True)) / a.std(-1, ddof=1, keepdims=True)

    base = 2.0
    p, q = softmax(z(T) / base), softmax(z(S) / base)
    expected_kd = base ** 2 * kl(p, q).mean()
    loss = ATSLoss(base, base, base, 0.1, 9.0, form="kl", logit_standardize=True)   # what distill.method ls builds
    total, ce_term, kd = _values(loss.terms(ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y)))
    np.testing.assert_allclose([kd, total], [expected_kd, 0.1 * ce(S, Y) + 9.0 * expected_kd], rtol=1e-4)
    # the same z-score on top of DKD: DKD of the z-scored logits
    dkd_ls = DKDLoss(1.0, 8.0, 2.0, warmup_epochs=0, logit_standardize=True)
    plain = DKDLoss(1.0, 8.0, 2.0, warmup_epochs=0)
    zs, zt = (ms.Tensor(z(a).astype(np.float32)) for a in (S, T))
    np.testing.assert_allclose(_values(dkd_ls.parts(ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y))),
                               _values(plain.parts(zs, zt, ms.Tensor(Y))), rtol=1e-4)


@pytest.mark.parametrize("weighted", [False, True])
def test_ttm_and_wttm_are_the_papers_power_transformed_teacher_matching(weighted):
    """Zheng and Yang 2024, Eq. 5 and 14: p_t^gamma renormalised, KL to the student at temperature 1; WTTM weights
    each sample by U = sum_c p_t,c^gamma."""
    gamma, beta = 0.25, 45.0
    pt = softmax(T.astype(np.float64)) ** gamma
    u = pt.sum(-1)
    per_sample = kl(pt / u[:, None], softmax(S.astype(np.float64)))
    expected_kd = (u * per_sample).mean() if weighted else per_sample.mean()
    total, ce_term, kd, power_sum = _values(TTMLoss(gamma, 1.0, beta, weighted=weighted).terms(
        ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y)))
    np.testing.assert_allclose([kd, power_sum, total], [expected_kd, u.mean(), ce(S, Y) + beta * expected_kd],
                               rtol=1e-4)


def test_ttm_is_finite_for_a_teacher_whose_probabilities_underflow():
    extreme = T * 40  # probabilities of e^-1000: a direct power would take 0 ** gamma
    values = _values(TTMLoss(0.1, weighted=True).terms(ms.Tensor(S), ms.Tensor(extreme), ms.Tensor(Y)))
    assert np.all(np.isfinite(values))


def test_ctkd_curriculum_is_the_papers_cosine():
    """Li et al. 2023, Eq. 8: lambda_n = lambda_min + (lambda_max - lambda_min)(1 + cos((1 + min(n, E) / E) pi)) / 2."""
    def paper(n, e=10, lo=0.0, hi=1.0):
        return lo + 0.5 * (hi - lo) * (1 + math.cos((1 + min(n, e) / e) * math.pi))

    for n in (0, 1, 3, 5, 9, 10, 25):
        assert curriculum(n, 10) == pytest.approx(paper(n), abs=1e-12)
    assert curriculum(4, 10, 0.2, 0.7) == pytest.approx(paper(4, 10, 0.2, 0.7), abs=1e-12)


class _Total(nn.Cell):
    def __init__(self, loss):
        super().__init__()
        self.loss = loss

    def construct(self, s, t, y):
        return self.loss(s, t, y)


def test_ctkd_learns_its_temperature_against_the_student_through_gradient_reversal():
    """The value: CE and KD at T = t_min + t_range sigmoid(theta), KD = T^2 KL(p_t(T) || p_s(T)).  The gradient
    reaching theta: -lambda times the gradient of the loss (a finite difference of the reference), so the
    optimizer that lowers the loss raises it through the temperature; the student's gradient is unchanged."""
    t_min, t_range, theta, ce_w, kd_w = 1.0, 20.0, 0.3, 0.1, 0.9

    def reference(th):
        temp = t_min + t_range / (1 + math.exp(-th))
        kd = temp ** 2 * kl(softmax(T.astype(np.float64) / temp), softmax(S.astype(np.float64) / temp)).mean()
        return temp, ce_w * ce(S, Y) + kd_w * kd

    loss = CTKDLoss(t_min, t_range, init=theta, curriculum_epochs=10, ce_weight=ce_w, kd_weight=kd_w)
    loss.set_epoch(4)  # three epochs done: lambda = (1 - cos(0.3 pi)) / 2
    lam = curriculum(3, 10)
    temp, expected = reference(theta)
    total, _, _, got_temp = _values(loss.terms(ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y)))
    np.testing.assert_allclose([got_temp, total], [temp, expected], rtol=1e-5)
    grad = ops.GradOperation(get_by_list=True)(_Total(loss), ms.ParameterTuple([loss.theta]))(
        ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y))[0].asnumpy()[0]
    h = 1e-5
    numeric = (reference(theta + h)[1] - reference(theta - h)[1]) / (2 * h)
    assert abs(numeric) > 1e-3 and grad == pytest.approx(-lam * numeric, rel=1e-3)
    student = ops.GradOperation()(_Total(loss))(ms.Tensor(S), ms.Tensor(T), ms.Tensor(Y)).asnumpy()
    plain = ATSLoss(temp, temp, temp, ce_w, kd_w, form="kl")  # the same loss at a fixed T
    np.testing.assert_allclose(student, ops.GradOperation()(_Total(plain))(ms.Tensor(S), ms.Tensor(T),
                                                                          ms.Tensor(Y)).asnumpy(), atol=1e-5)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("logit_methods"))
    train(load_config(None, tiny_overrides(out, "t", "resnet8", epochs=1) + ["data.train_samples=256"]))
    return os.path.join(out, "t", "best.ckpt")


@pytest.mark.parametrize("method,extra", [
    ("dist", ["distill.ce_weight=1.0", "distill.dist.temperature=4", "distill.dist.beta=2", "distill.dist.gamma=2"]),
    ("ls", ["distill.ce_weight=0.1", "distill.kd_weight=9"]),
    ("ttm", ["distill.ce_weight=1.0", "distill.kd_weight=45"]),
    ("wttm", ["distill.ce_weight=1.0", "distill.kd_weight=45"]),
    ("dkd", ["distill.dkd.logit_standardize=true", "distill.dkd.temperature=2", "distill.dkd.warmup_epochs=1"]),
])
def test_each_method_trains_end_to_end(tmp_path, teacher, method, extra):
    cfg = load_config(None, tiny_overrides(str(tmp_path), method, "resnet8", epochs=2) + [
        "data.train_samples=256", f"distill.method={method}", "teacher.arch=resnet8", f"teacher.checkpoint={teacher}",
        *extra])
    summary = train(cfg)
    assert summary["steps"] == 8 and summary["last_top1"] is not None
    log = open(os.path.join(summary["run_dir"], "train.log")).read()
    assert f"method    {method}" in log


def test_ctkd_trains_logs_its_temperature_and_resumes_it(tmp_path, teacher):
    """The learned temperature moves, is logged per epoch (metrics.jsonl) and is part of the training state."""
    cfg = load_config(None, tiny_overrides(str(tmp_path), "ctkd", "resnet8", epochs=2) + [
        "data.train_samples=256", "distill.method=ctkd", "teacher.arch=resnet8", f"teacher.checkpoint={teacher}",
        "distill.ctkd.curriculum_epochs=1", "optim.lr=0.5"])
    summary = train(cfg)
    records = [json.loads(line) for line in open(os.path.join(summary["run_dir"], "metrics.jsonl"))
               if '"train_temperature"' in line]
    temps = [r["train_temperature"] for r in records]  # the epoch's mean of the learned T
    assert len(temps) == 2 and all(1.0 < t < 21.0 for t in temps) and temps[0] != temps[1], temps
    _, params = read_meta(os.path.join(summary["run_dir"], "train_state.ckpt"))
    assert {"loss.theta", "moments.loss.theta"} <= set(params)
    theta = float(params["loss.theta"].asnumpy()[0])
    assert theta != 1.0  # trained away from its initial value
