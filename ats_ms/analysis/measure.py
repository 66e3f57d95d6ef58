"""The measurements of ``python -m ats_ms.analyze`` on real networks: each network's logits over a whole split, every
dark-knowledge number of ``dark_knowledge`` computed from them, and the files written."""
import os

import numpy as np

from ats_ms.common.errors import ConfigError
from ats_ms.engine.run_dir import write_json


def collect_logits(cfg, arch, path, data, pipeline=None):
    """Logits and labels of one network over the whole (ordered) dataset."""
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.restore import network_from_checkpoint  # pylint: disable=import-outside-toplevel
    from ats_ms.data.pipeline_errors import pipeline_errors  # pylint: disable=import-outside-toplevel
    restored = network_from_checkpoint(cfg, path, arch=arch, pipeline=pipeline)
    net = restored.net
    for note in restored.notes:
        print(f"note: {note}")
    logits, labels = [], []
    with pipeline_errors(cfg.data):
        for images, y in data.create_tuple_iterator(num_epochs=1):
            logits.append(net(images).astype(ms.float32).asnumpy())
            labels.append(y.asnumpy())
    return np.concatenate(logits), np.concatenate(labels).astype(np.int64)


def analyze_split(cfg, teachers, student, pairs, split):
    """Every measurement on one split: {dataset, split, images, teachers, agreement, affinity_consistency,
    decomposition?}."""
    from ats_ms.analysis import dark_knowledge as dk  # pylint: disable=import-outside-toplevel
    from ats_ms.data import create_dataset  # pylint: disable=import-outside-toplevel
    from ats_ms.models import count_params, create_model  # pylint: disable=import-outside-toplevel
    data, info = create_dataset(cfg.data, split, ordered=True)
    pipeline = (info.mean, info.std)
    results, logits = {}, {}
    labels = None
    for label, arch, path in teachers:
        z, y = collect_logits(cfg, arch, path, data, pipeline)
        if labels is not None and not np.array_equal(labels, y):
            raise ConfigError("The dataset did not yield the same images in the same order twice.")
        labels, logits[label] = y, z
        results[label] = {"arch": arch, "checkpoint": path, "parameters": count_params(create_model(arch, z.shape[1])),
                          "calibration": dk.calibration(z, y), "sweep": dk.temperature_sweep(z, y, pairs=pairs),
                          "class_affinity": dk.class_affinity(z, y).tolist()}
        calib = results[label]["calibration"]
        print(f"{split} {label}: top1 {100 * calib['accuracy']:.2f}%, confidence {100 * calib['confidence']:.2f}%, "
              f"ECE {100 * calib['ece']:.2f}%", flush=True)
    report = {"dataset": info.name, "split": split, "images": int(len(labels)), "teachers": results,
              "sweep_taus": list(dk.SWEEP_TAUS), "ats_ratio": list(dk.ATS_RATIO),
              "sigma_q_definition": "population standard deviation of the wrong-class probabilities"}
    names = list(logits)
    pairs_of = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    report["agreement"] = {f"{a} vs {b}": dk.class_affinity_agreement(logits[a], logits[b], labels) for a, b in pairs_of}
    report["affinity_consistency"] = {
        f"{a} vs {b}": dk.affinity_consistency(np.array(results[a]["class_affinity"]),
                                               np.array(results[b]["class_affinity"])) for a, b in pairs_of}
    if student:
        s_label, s_arch, s_path = student
        s_logits, _ = collect_logits(cfg, s_arch, s_path, data, pipeline)
        d = cfg.distill
        report["decomposition"] = {
            f"{t} -> {s_label}": dk.kd_decomposition(logits[t], s_logits, labels, d.tau_target, d.tau_wrong,
                                                     d.tau_student) for t in names}
    return report


def analyze(cfg, teachers, student=None, pairs=(), splits=("test",), out_dir="analysis", plots=True):
    """Measure every split, then write ``analysis.json``, ``analysis.md`` and the figures; returns {split: report}."""
    from ats_ms.analysis.tables import markdown  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.run_dir import write_text_atomic  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.runtime import setup_runtime  # pylint: disable=import-outside-toplevel
    setup_runtime(cfg.runtime)
    reports = {split: analyze_split(cfg, teachers, student, pairs, split) for split in splits}
    os.makedirs(out_dir, exist_ok=True)  # only now: a failed analysis leaves no empty folder behind
    write_json(os.path.join(out_dir, "analysis.json"), reports)
    write_text_atomic(os.path.join(out_dir, "analysis.md"), markdown(reports))
    files = [os.path.join(out_dir, name) for name in ("analysis.json", "analysis.md")]
    if plots:
        from ats_ms.analysis.plots import write_all  # pylint: disable=import-outside-toplevel
        for split, report in reports.items():
            files += write_all(report["teachers"], out_dir, suffix="" if len(reports) == 1 else f"_{split}")
    for split, report in reports.items():
        for pair, d in report.get("decomposition", {}).items():
            print(f"{split} {pair}: KD term {d['total']:.4f} = correct guidance {d['correct_guidance']:.4f} + smooth "
                  f"regularisation {d['smooth_regularisation']:.4f} + class discriminability "
                  f"{d['class_discriminability']:.4f} (tau {d['tau_target']:g}/{d['tau_wrong']:g}, student "
                  f"{d['tau_student']:g})")
        for pair, agree in report["agreement"].items():
            cls = report["affinity_consistency"][pair]["class_spearman_mean"]
            print(f"{split} {pair}: class-affinity Spearman {cls:.3f}; per sample Spearman {agree['spearman']:.3f}, "
                  f"Kendall {agree['kendall']:.3f}")
    print("wrote " + ", ".join(files))
    return reports
