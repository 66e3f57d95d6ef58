"""Figures of ``ats_ms.analyze``: sigma(q) and e(q) against temperature, reliability diagrams."""
import os

from ats_ms.common.optional import pyplot


def _pyplot():
    return pyplot("The analysis plots (or --no-plots for the JSON only)")


def sweep_plot(results, key, ylabel, path):
    """One curve per teacher and per scaling (solid TS, dashed ATS) against tau on a log axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, res) in enumerate(results.items()):
        color = f"C{i % 10}"
        for scaling, style in (("ts", "-"), ("ats", "--")):
            rows = res["sweep"][scaling]
            ax.plot([r["tau"] for r in rows], [r[key] for r in rows], style, color=color, marker="o", markersize=3,
                    label=f"{name} {'TS' if scaling == 'ts' else 'ATS (1.25 tau, 0.75 tau)'}")
    ax.set_xscale("log")
    ax.set_xlabel("temperature tau")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def reliability_plot(name, calib, path):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    bins = [b for b in calib["bins"] if b["count"]]
    centers = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = calib["bins"][0]["upper"] - calib["bins"][0]["lower"]
    ax.bar(centers, [b["accuracy"] for b in bins], width=width * 0.95, alpha=0.8, label="accuracy")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{name}: ECE {100 * calib['ece']:.2f}%")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_all(results, out_dir, suffix=""):
    files = [sweep_plot(results, "sigma_q", "mean sigma(q): spread of wrong-class probabilities",
                        os.path.join(out_dir, f"sigma_q_vs_tau{suffix}.png")),
             sweep_plot(results, "e_q", "mean e(q): average wrong-class probability",
                        os.path.join(out_dir, f"e_q_vs_tau{suffix}.png"))]
    for name, res in results.items():
        files.append(reliability_plot(name, res["calibration"],
                                      os.path.join(out_dir, f"reliability_{name}{suffix}.png")))
    return files
