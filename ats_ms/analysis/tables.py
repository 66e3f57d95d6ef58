"""The markdown tables ``python -m ats_ms.analyze`` writes (``analysis.md``): one per split."""

TABLE_TAUS = (1, 4)   # TS temperatures shown in the table (the JSON holds the whole sweep)
TABLE_ATS_TAU = 4     # ATS at 1.25 x 4 = 5 on the target, 0.75 x 4 = 3 elsewhere (the authors' figure setting)


def _at(rows, tau):
    return next(r for r in rows if abs(r["tau"] - tau) < 1e-9)


def teacher_table(report):
    """Capacity, accuracy, calibration and wrong-class distinctness of every teacher of one split."""
    pairs = sorted({k for res in report["teachers"].values() for k in res["sweep"] if k.startswith("pair_")})
    head = ["teacher", "parameters", "top-1 %", "mean confidence %", "ECE %"]
    head += [f"e(q) / sigma(q) TS tau {t}" for t in TABLE_TAUS]
    head += [f"e(q) / sigma(q) ATS {1.25 * TABLE_ATS_TAU:g}/{0.75 * TABLE_ATS_TAU:g}"]
    head += [f"e(q) / sigma(q) ATS {p[5:].replace('_', '/')}" for p in pairs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, res in report["teachers"].items():
        c, sweep = res["calibration"], res["sweep"]
        cells = [name, f"{res.get('parameters', 0):,}", f"{100 * c['accuracy']:.2f}", f"{100 * c['confidence']:.2f}",
                 f"{100 * c['ece']:.2f}"]
        stats = [_at(sweep["ts"], t) for t in TABLE_TAUS] + [_at(sweep["ats"], TABLE_ATS_TAU)] + [sweep[p] for p in pairs]
        cells += [f"{s['e_q']:.4f} / {s['sigma_q']:.4f}" for s in stats]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def agreement_table(report):
    lines = ["| teachers | class-affinity Spearman (mean over classes) | lowest class | per-sample Spearman | "
             "per-sample Kendall | top-5 overlap |", "|---|---|---|---|---|---|"]
    for pair, a in report["agreement"].items():
        cls = report["affinity_consistency"][pair]
        overlap = next(v for k, v in a.items() if k.endswith("_overlap"))
        lines.append(f"| {pair} | {cls['class_spearman_mean']:.3f} | {cls['class_spearman_min']:.3f} | "
                     f"{a['spearman']:.3f} | {a['kendall']:.3f} | {overlap:.3f} |")
    return "\n".join(lines)


def decomposition_table(report):
    """The KD term of each teacher -> student pair split as the ATS paper does (correct guidance, smooth
    regularisation, class discriminability; they add up to the soft cross-entropy)."""
    lines = ["| teacher -> student | tau_target / tau_wrong / tau_student | correct guidance | smooth regularisation | "
             "class discriminability | total (soft CE) |", "|---|---|---|---|---|---|"]
    for pair, d in report["decomposition"].items():
        lines.append(f"| {pair} | {d['tau_target']:g} / {d['tau_wrong']:g} / {d['tau_student']:g} | "
                     f"{d['correct_guidance']:.4f} | {d['smooth_regularisation']:.4f} | "
                     f"{d['class_discriminability']:.4f} | {d['total']:.4f} |")
    return "\n".join(lines)


def markdown(reports):
    """``reports``: {split: report}."""
    parts = []
    for split, report in reports.items():
        parts.append(f"## {report['dataset']} {split} split ({report['images']:,} images)\n")
        parts.append(teacher_table(report) + "\n")
        if report["agreement"]:
            parts.append("Agreement on class affinity (tau 1):\n")
            parts.append(agreement_table(report) + "\n")
        if report.get("decomposition"):
            parts.append("The KD term split (the distill section's temperatures):\n")
            parts.append(decomposition_table(report) + "\n")
    parts.append("e(q): mean wrong-class probability; sigma(q): its per-sample standard deviation, averaged over "
                 "samples (how distinct the wrong classes are). ECE: 15 equal-width confidence bins.\n")
    return "\n".join(parts)
