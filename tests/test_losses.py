"""ats_ms.losses: the ATS loss against test vectors computed from the published formula, in both execution modes,
in fp16, for huge logits, and its special cases (TS, the KL form, the benchmark KD weighting, tau_student)."""
import numpy as np
import pytest

import mindspore as ms

from ats_ms.losses import ATSLoss, KDLoss, ats_soft_targets

TEACHER = np.array([[5, 3, 1, -1], [0.5, 2.0, -1.0, 1.0]], np.float32)
STUDENT = np.array([[1, 0.5, 0, -0.5], [0, 1, 0, 0]], np.float32)
LABELS = np.array([0, 1], np.int32)

# Test vectors computed from the ATS formula (the paper's eq. for p and the authors' loss): (tau1, tau2) -> (p rows, CE, KD term, total) at lam = 0.5, s_tau = 1.
VECTORS = {
    (4, 4): ([[.455054, .276004, .167405, .101536], [.233895, .340315, .160753, .265037]], 0.765504, 1.324202, 1.044853),
    (4, 2): ([[.341278, .438209, .161208, .059305], [.247499, .317795, .116910, .317795]], 0.765504, 1.341241, 1.053372),
    (4, 3): ([[.419474, .326686, .167726, .086114], [.239034, .333599, .144982, .282385]], 0.765504, 1.328824, 1.047164),
}


def _t(a):
    return ms.Tensor(a)


def _check_vectors():
    for (t1, t2), (p_ref, ce_ref, kd_ref, total_ref) in VECTORS.items():
        p = ats_soft_targets(_t(TEACHER), _t(LABELS), float(t1), float(t2)).asnumpy()
        np.testing.assert_allclose(p, p_ref, atol=1e-5)
        loss = ATSLoss(t1, t2)
        total = loss(_t(STUDENT), _t(TEACHER), _t(LABELS)).asnumpy()  # compiled construct
        _, ce, kd = (x.asnumpy() for x in loss.terms(_t(STUDENT), _t(TEACHER), _t(LABELS)))
        np.testing.assert_allclose([total, ce, kd], [total_ref, ce_ref, kd_ref], atol=1e-5)


def test_spec_vectors_graph_mode():
    assert ms.get_context("mode") == ms.GRAPH_MODE
    _check_vectors()


def test_spec_vectors_pynative_mode(pynative):
    _check_vectors()


def test_fp16_inputs_are_computed_in_fp32():
    loss = ATSLoss(4, 2)
    out = loss(_t(STUDENT.astype(np.float16)), _t(TEACHER.astype(np.float16)), _t(LABELS))
    assert out.dtype == ms.float32
    np.testing.assert_allclose(out.asnumpy(), VECTORS[(4, 2)][3], atol=2e-3)
    p = ats_soft_targets(_t(TEACHER.astype(np.float16)), _t(LABELS), 4.0, 2.0)
    assert p.dtype == ms.float32


def test_stable_for_huge_logits():
    big = _t(TEACHER * 1000)
    p = ats_soft_targets(big, _t(LABELS), 4.0, 2.0).asnumpy()
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    total = ATSLoss(4, 2)(_t(STUDENT * 1000), big, _t(LABELS)).asnumpy()
    assert np.isfinite(total)


def test_equal_temperatures_are_plain_temperature_scaling():
    z = TEACHER / 3.0
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(ats_soft_targets(_t(TEACHER), _t(LABELS), 3.0, 3.0).asnumpy(), expected, atol=1e-6)


def test_kl_form_is_soft_ce_minus_teacher_entropy():
    p = np.array(VECTORS[(4, 2)][0])
    entropy = -(p * np.log(p)).sum(1).mean()
    kd_soft = ATSLoss(4, 2).terms(_t(STUDENT), _t(TEACHER), _t(LABELS))[2].asnumpy()
    kd_kl = ATSLoss(4, 2, form="kl").terms(_t(STUDENT), _t(TEACHER), _t(LABELS))[2].asnumpy()
    np.testing.assert_allclose(kd_kl, kd_soft - entropy, atol=1e-5)


def test_benchmark_kd_weighting():
    """0.1 CE + 0.9 T^2 KL(p_T(T) || p_S(T)), T = 4, computed independently in numpy."""
    def softmax(a):
        e = np.exp(a - a.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    p, q = softmax(TEACHER / 4), softmax(STUDENT / 4)
    kl = (p * (np.log(p) - np.log(q))).sum(1).mean()
    ce = -np.log(softmax(STUDENT)[[0, 1], LABELS]).mean()
    expected = 0.1 * ce + 0.9 * 16 * kl
    np.testing.assert_allclose(KDLoss(4.0)(_t(STUDENT), _t(TEACHER), _t(LABELS)).asnumpy(), expected, atol=1e-5)


def test_student_temperature_multiplies_by_its_square():
    kd1 = ATSLoss(4, 4, tau_student=4.0, form="kl").terms(_t(STUDENT), _t(TEACHER), _t(LABELS))[2].asnumpy()
    kd2 = KDLoss(4.0).terms(_t(STUDENT), _t(TEACHER), _t(LABELS))[2].asnumpy()
    np.testing.assert_allclose(kd1, kd2, atol=1e-6)


@pytest.mark.parametrize("kwargs,match", [({"tau_target": 0}, "tau_target"), ({"ce_weight": -1}, "ce_weight"),
                                          ({"form": "js"}, "form")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ATSLoss(**kwargs)


def test_label_smoothing_of_the_ce_term_is_the_usual_formula():
    """(1 - eps) * CE + eps * mean_c(-log q_c), for the CE-only loss and for the CE term of ATS; off by default."""
    from ats_ms.losses.ce import CELoss
    s = np.array([[1.0, 0.5, 0.0, -0.5], [0.0, 1.0, 0.0, 0.0]], np.float32)
    y = np.array([0, 1], np.int32)
    z = s - s.max(1, keepdims=True)
    log_q = z - np.log(np.exp(z).sum(1, keepdims=True))
    eps = 0.1
    expected = np.mean((1 - eps) * -log_q[np.arange(2), y] + eps * -log_q.mean(1))
    got = CELoss(eps).terms(ms.Tensor(s), None, ms.Tensor(y))[1].asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    _, ce, _ = ATSLoss(4.0, 2.0, label_smoothing=eps).terms(ms.Tensor(s), ms.Tensor(s), ms.Tensor(y))
    np.testing.assert_allclose(ce.asnumpy(), expected, rtol=1e-6)
    plain = np.mean(-log_q[np.arange(2), y])
    np.testing.assert_allclose(CELoss().terms(ms.Tensor(s), None, ms.Tensor(y))[1].asnumpy(), plain, rtol=1e-6)
