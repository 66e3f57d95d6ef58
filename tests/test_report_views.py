"""Runs as pictures: report --curves (one line per setting, seeds as a band) and TensorBoard event files."""
import glob
import json
import os
import struct

import pytest

from ats_ms.config import load_config
from ats_ms.engine.trainer import train
from ats_ms.report import main as report_main
from ats_ms.results.figures import plot_curves
from ats_ms.results.runs import curve_settings, read_curves, run_label
from train_helpers import tiny_overrides

SMALL = ["data.train_samples=128", "logging.log_interval=1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("views"))
    train(load_config(None, tiny_overrides(out, "teacher", epochs=2) + SMALL + ["logging.tensorboard=true"]))
    teacher = os.path.join(out, "teacher", "best.ckpt")
    for seed in (0, 1):
        train(load_config(None, tiny_overrides(out, f"ats_s{seed}", epochs=2) + SMALL + [
            "distill.method=ats", "teacher.arch=resnet8", f"teacher.checkpoint={teacher}", f"experiment.seed={seed}"]))
    return out


def _events(folder):
    """Scalars from TensorBoard event files, read with a TFRecord reader written here (length, crc, record,
    crc) and the Event protobuf: independent of the writer's own reading code."""
    from tensorboardX.proto import event_pb2
    scalars = {}
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        data = open(path, "rb").read()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_events_hold_every_logged_scalar(runs):
    run = os.path.join(runs, "teacher")
    scalars = _events(os.path.join(run, "tensorboard"))
    for tag in ("train/loss", "train/ce", "train/lr", "train/images_per_s", "train/top1_epoch", "test/top1",
                "test/top5", "test/loss"):
        assert tag in scalars, tag
    evals = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl")) if '"eval"' in line]
    assert [s for s, _ in scalars["test/top1"]] == [r["step"] for r in evals]
    assert [v for _, v in scalars["test/top1"]] == pytest.approx([r["top1"] for r in evals], rel=1e-6)
    assert [v for _, v in scalars["train/top1_epoch"]] == pytest.approx([r["train_top1"] for r in evals], rel=1e-6)
    assert len(scalars["train/loss"]) == 4  # log_interval 1: every step (2 epochs x 2 steps)
    assert not os.path.exists(os.path.join(runs, "ats_s0", "tensorboard"))  # off unless asked for


def test_curves_draw_one_line_per_setting(runs, tmp_path):
    settings = curve_settings([os.path.join(runs, d) for d in ("teacher", "ats_s0", "ats_s1")])
    assert sorted(settings) == ["resnet8 (CE)", "resnet8 -> resnet8 ATS 4/2"]
    assert len(settings["resnet8 -> resnet8 ATS 4/2"]) == 2  # two seeds: drawn as mean and band
    curves = read_curves(os.path.join(runs, "ats_s0"))
    records = [json.loads(line) for line in open(os.path.join(runs, "ats_s0", "metrics.jsonl")) if '"eval"' in line]
    assert curves["test"] == {r["epoch"]: r["top1"] for r in records}
    assert curves["train_top1"] == {r["epoch"]: r["train_top1"] for r in records}
    # the label CE, comparable between CE-only and KD runs (a KD run's total loss also holds its soft term)
    assert curves["train_ce"] == {r["epoch"]: r["train_ce"] for r in records}
    assert all(r["train_loss"] > r["train_ce"] * 0.5 + 1e-9 for r in records)  # 0.5 CE + 0.5 KD: the total differs
    path = plot_curves([os.path.join(runs, d) for d in ("teacher", "ats_s0", "ats_s1")], str(tmp_path / "c.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert report_main([runs, "--curves", str(tmp_path / "r.png")]) == 0
    assert os.path.getsize(tmp_path / "r.png") > 10_000


def test_equal_temperatures_are_labelled_ts():
    """ATS with tau_target = tau_wrong is plain temperature scaling: the curves say TS, so a TS/ATS pair of one
    sweep reads as such."""
    def cfg(method, tau_target, tau_wrong):
        return {"model": {"arch": "resnet8"}, "teacher": {"arch": "resnet56_a"},
                "distill": {"method": method, "tau_target": tau_target, "tau_wrong": tau_wrong}}
    assert run_label(cfg("ats", 4.0, 4.0)) == "resnet56_a -> resnet8 TS 4"
    assert run_label(cfg("ats", 4.0, 2.0)) == "resnet56_a -> resnet8 ATS 4/2"
    assert run_label(cfg("none", 4.0, 4.0)) == "resnet8 (CE)"
    assert run_label(cfg("kd", 4.0, 4.0)) == "resnet56_a -> resnet8 KD 4/4"
    assert run_label(cfg("dist", 4.0, 2.0)) == "resnet56_a -> resnet8 DIST"  # its temperature is its own section's
    assert run_label(cfg("isats", 4.0, 2.0)) == "resnet56_a -> resnet8 ISATS 4"  # tau_wrong is searched per sample
