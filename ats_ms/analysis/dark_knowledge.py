"""Measurements of a teacher's soft labels, on logits already collected (numpy, float64).

Notation (the ATS paper, NeurIPS 2022, section 3): for one sample with label y and soft label p, q = [p_c]_{c != y} are the
wrong-class probabilities; e(q) is their mean (the "derived average") and sigma(q) their standard
deviation (population std, the "derived variance" of the paper's figures).  A large, over-confident
teacher has a small sigma(q): its wrong classes look alike, so the class-discriminability part of the
KD loss carries little information.
"""
import numpy as np

# The temperatures swept by the ATS authors' public figure code (lxcnju/ATS-LargeKD)
SWEEP_TAUS = (0.05, 0.1, 0.25, 0.4, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
ATS_RATIO = (1.25, 0.75)  # tau1 = 1.25 tau, tau2 = 0.75 tau


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def scaled_probs(logits, labels, tau_target, tau_wrong):
    """The ATS soft label (TS when the temperatures are equal)."""
    tau = np.full(logits.shape, float(tau_wrong))
    tau[np.arange(len(labels)), labels] = float(tau_target)
    return np.exp(log_softmax(logits.astype(np.float64) / tau))


def wrong_class_stats(p, labels):
    """Mean over samples of e(q), sigma(q), p_target, and the fraction with the target on top."""
    n = len(labels)
    target = p[np.arange(n), labels]
    mask = np.ones_like(p, dtype=bool)
    mask[np.arange(n), labels] = False
    q = p[mask].reshape(n, -1)
    return {"e_q": float(q.mean(1).mean()), "sigma_q": float(q.std(1).mean()),
            "p_target": float(target.mean()), "target_top1": float((target >= q.max(1)).mean())}


def temperature_sweep(logits, labels, taus=SWEEP_TAUS, pairs=()):
    """TS and ATS (tau1 = 1.25 tau, tau2 = 0.75 tau) over ``taus``, plus fixed (tau1, tau2) pairs."""
    out = {"ts": [], "ats": []}
    for tau in taus:
        out["ts"].append(dict(tau=tau, **wrong_class_stats(scaled_probs(logits, labels, tau, tau), labels)))
        t1, t2 = ATS_RATIO[0] * tau, ATS_RATIO[1] * tau
        out["ats"].append(dict(tau=tau, tau_target=t1, tau_wrong=t2,
                               **wrong_class_stats(scaled_probs(logits, labels, t1, t2), labels)))
    for t1, t2 in pairs:
        out[f"pair_{t1:g}_{t2:g}"] = dict(tau_target=t1, tau_wrong=t2,
                                          **wrong_class_stats(scaled_probs(logits, labels, t1, t2), labels))
    return out


def calibration(logits, labels, bins=15):
    """Accuracy, mean confidence, expected calibration error and the reliability-diagram bins."""
    p = np.exp(log_softmax(logits.astype(np.float64)))
    conf, pred = p.max(1), p.argmax(1)
    correct = (pred == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        count = int(sel.sum())
        acc = float(correct[sel].mean()) if count else None
        mean_conf = float(conf[sel].mean()) if count else None
        if count:
            ece += count / len(labels) * abs(acc - mean_conf)
        table.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": count,
                      "accuracy": acc, "confidence": mean_conf})
    return {"accuracy": float(correct.mean()), "confidence": float(conf.mean()), "ece": float(ece),
            "bins": table}


def kd_decomposition(teacher_logits, student_logits, labels, tau_target, tau_wrong, tau_student=1.0):
    """The KD term -sum_c p_c log s_c split into correct guidance, smooth regularisation and class
    discriminability (means over samples; they add up to the soft cross-entropy)."""
    n = len(labels)
    p = scaled_probs(teacher_logits, labels, tau_target, tau_wrong)
    log_s = log_softmax(student_logits.astype(np.float64) / tau_student)
    idx = np.arange(n)
    guidance = -p[idx, labels] * log_s[idx, labels]
    mask = np.ones_like(p, dtype=bool)
    mask[idx, labels] = False
    q = p[mask].reshape(n, -1)
    log_s_wrong = log_s[mask].reshape(n, -1)
    e_q = q.mean(1, keepdims=True)
    smooth = -(e_q * log_s_wrong).sum(1)
    discriminability = -((q - e_q) * log_s_wrong).sum(1)
    return {"correct_guidance": float(guidance.mean()), "smooth_regularisation": float(smooth.mean()),
            "class_discriminability": float(discriminability.mean()),
            "total": float((guidance + smooth + discriminability).mean()),
            "tau_target": tau_target, "tau_wrong": tau_wrong, "tau_student": tau_student}


def class_affinity(logits, labels, num_classes=None, tau=1.0):
    """C x C matrix: row y is the mean soft label (at temperature ``tau``) of the samples labelled y, with the
    diagonal (the target's own probability) set to NaN: which wrong classes a teacher finds close to y."""
    num_classes = num_classes or logits.shape[1]
    p = np.exp(log_softmax(logits.astype(np.float64) / tau))
    matrix = np.full((num_classes, num_classes), np.nan)
    for y in range(num_classes):
        rows = p[labels == y]
        if len(rows):
            matrix[y] = rows.mean(0)
    np.fill_diagonal(matrix, np.nan)
    return matrix


def affinity_consistency(matrix_a, matrix_b):
    """Spearman's rho between two teachers' class-affinity rows (each class's mean wrong-class probabilities),
    per class, then averaged: 1 = they order every class's wrong classes alike."""
    rhos = []
    for row_a, row_b in zip(matrix_a, matrix_b):
        keep = ~(np.isnan(row_a) | np.isnan(row_b))
        if keep.sum() < 2:
            continue
        ra = np.argsort(np.argsort(row_a[keep])).astype(np.float64)
        rb = np.argsort(np.argsort(row_b[keep])).astype(np.float64)
        ra, rb = ra - ra.mean(), rb - rb.mean()
        rhos.append(float((ra * rb).sum() / np.sqrt((ra ** 2).sum() * (rb ** 2).sum())))
    return {"class_spearman_mean": float(np.mean(rhos)), "class_spearman_min": float(np.min(rhos)),
            "classes": len(rhos)}


def _wrong_logits(logits, labels):
    n = len(labels)
    mask = np.ones_like(logits, dtype=bool)
    mask[np.arange(n), labels] = False
    return logits[mask].reshape(n, -1).astype(np.float64)


def _ranks(x):
    return np.argsort(np.argsort(x, axis=1), axis=1).astype(np.float64)


def class_affinity_agreement(logits_a, logits_b, labels, k=5, chunk=256):
    """How far two teachers agree on the *relative* ranking of the wrong classes of each sample.

    Our chosen measures (per sample, then averaged): Spearman's rho and Kendall's tau (tau-a: continuous
    logits have no ties) between the two teachers' wrong-class logits, and the overlap of their top-k
    wrong classes (|A ∩ B| / k)."""
    a, b = _wrong_logits(logits_a, labels), _wrong_logits(logits_b, labels)
    m = a.shape[1]
    ra, rb = _ranks(a), _ranks(b)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    spearman = (ra * rb).sum(1) / np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1))
    kendall = []
    upper = np.triu(np.ones((m, m), dtype=bool), 1)
    for start in range(0, len(a), chunk):
        da = np.sign(a[start:start + chunk, :, None] - a[start:start + chunk, None, :])[:, upper]
        db = np.sign(b[start:start + chunk, :, None] - b[start:start + chunk, None, :])[:, upper]
        kendall.append((da * db).sum(1) / upper.sum())
    k = min(k, m)
    top_a = np.argsort(-a, axis=1)[:, :k]
    top_b = np.argsort(-b, axis=1)[:, :k]
    overlap = np.array([len(set(x) & set(y)) / k for x, y in zip(top_a, top_b)])
    return {"spearman": float(np.nanmean(spearman)), "kendall": float(np.concatenate(kendall).mean()),
            f"top{k}_overlap": float(overlap.mean()), "samples": int(len(labels))}
