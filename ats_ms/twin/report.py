"""What a twin run leaves: ``twin.json`` (every number), a summary for the terminal, and the loss curves."""
import os

from ats_ms.config import to_dict
from ats_ms.engine import run_dir as rd
from ats_ms.common.optional import MissingExtra, pyplot


def write_report(report, folder, cfg):
    """``folder/twin.json`` with the report and the config it ran; returns its path."""
    with rd.guarded_write(folder, "nothing was written", {"again": "run the twin again", "where": "--output"}):
        os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "twin.json")
    rd.write_json(path, dict(report, config=to_dict(cfg)))
    return path


def summary_lines(report):
    first = report["first_step"]
    lines = [f"first step: loss ats_ms {first['loss_mindspore']:.6f}, PyTorch {first['loss_pytorch']:.6f} "
             f"(|difference| {first['loss_difference']:.2e}); gradients of {first['parameters']} parameters: "
             f"||difference|| / ||gradient|| {first['gradient_norm_relative_difference']:.2e} over the whole network, "
             f"worst single entry {first['gradient_max_relative_difference']:.2e} of its parameter's largest "
             f"({first['gradient_worst_parameter']}; one ReLU unit at 0 landing on the other side moves a few entries "
             "by their full size)",
             f"learning rates: max |difference| {report['lr_max_difference']:.2e} over {report['steps']} steps",
             f"loss curves: max |difference| {report['loss_difference_first_10_steps_max']:.2e} over the first 10 "
             f"steps, {report['loss_difference_max']:.2e} over the run, mean "
             f"{report['loss_difference_last_epoch_mean']:.2e} in the last epoch"]
    for e in report["evaluations"]:
        lines.append(f"epoch {e['epoch']}: test top-1 ats_ms {e['top1_mindspore']:.2f}, "
                     f"PyTorch {e['top1_pytorch']:.2f}")
    lines.append(f"{report['seconds']:.0f} s")
    return lines


def plot(report, folder):
    """``folder/twin.png``: both loss curves and their difference per step; None without matplotlib."""
    try:
        plt = pyplot("The twin's figure")
    except MissingExtra:
        return None
    steps = range(1, len(report["losses_mindspore"]) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(steps, report["losses_mindspore"], label="ats_ms (MindSpore)", linewidth=1)
    top.plot(steps, report["losses_pytorch"], label="PyTorch twin", linewidth=1, linestyle="--")
    top.set_ylabel("training loss")
    top.legend()
    diff = [abs(a - b) + 1e-12 for a, b in zip(report["losses_mindspore"], report["losses_pytorch"])]
    bottom.semilogy(steps, diff, linewidth=0.8)
    bottom.set_ylabel("|difference|")
    bottom.set_xlabel("step")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = os.path.join(folder, "twin.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
