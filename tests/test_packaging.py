"""An ordinary install (a built wheel, not the editable checkout) carries the shipped configs, and every
command that needs them works from any folder."""
import glob
import os
import shutil
import subprocess
import sys

from conftest import REPO


def _run(args, cwd, env):
    proc = subprocess.run([sys.executable] + args, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def test_wheel_carries_the_configs_and_runs_from_another_folder(tmp_path):
    source = tmp_path / "source"  # build from a copy, so the checkout stays as it is
    source.mkdir()
    for name in ("setup.py", "README.md", "MANIFEST.in", "run_train.sh"):
        shutil.copy(os.path.join(REPO, name), source / name)
    shutil.copytree(os.path.join(REPO, "ats_ms"), source / "ats_ms", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(REPO, "configs"), source / "configs")
    env = dict(os.environ, GLOG_v="3")
    _run(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w", str(tmp_path / "dist")],
         tmp_path, env)
    (wheel,) = glob.glob(str(tmp_path / "dist" / "ats_ms-*.whl"))
    site = tmp_path / "site"
    _run(["-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel], tmp_path, env)
    shutil.rmtree(source)  # nothing may come from the source tree any more

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env["PYTHONPATH"] = str(site)
    where = _run(["-c", "import ats_ms, ats_ms.config.shipped as s; print(ats_ms.__file__); print(s.config_root())"],
                 elsewhere, env).split()
    assert where[0].startswith(str(site)) and where[1] == str(site / "ats_ms" / "shipped_configs")
    listing = _run(["-m", "ats_ms.configs"], elsewhere, env)
    for name in ("quickstart/digits_teacher", "cifar100/ats_paper/resnet110_to_vgg8/ats", "recipes/demo",
                 "cifar10/short/resnet20_to_resnet8/ats"):
        assert name in listing, name
    assert "ATS paper pair resnet110 -> vgg8 on CIFAR-100" in listing  # the one-line descriptions
    run_dir = _run(["-m", "ats_ms.train", "--config", "cifar100/ats_paper/resnet110_to_vgg8/ats", "--print-run-dir"],
                   elsewhere, env)
    assert run_dir.strip() == os.path.join("runs", "cifar100", "ats_paper", "resnet110_to_vgg8_ats")
    _run(["-m", "ats_ms.train", "--recipe", "demo", "--print-run-dir"], elsewhere, env)
    _run(["-c", "from ats_ms.config import load_config; from ats_ms.config.shipped import quickstart_config as q; "
                "[load_config(q(f)) for f in ('digits_teacher.yaml', 'digits_student_ce.yaml', "
                "'digits_student_ts.yaml', 'digits_student_ats.yaml')]"], elsewhere, env)
    out = _run(["-m", "ats_ms.train", "--config", "quickstart/digits_teacher", "experiment.output_dir=runs",
                "schedule.epochs=1", "model.arch=resnet8", "data.train_samples=256"], elsewhere, env)
    assert "done: best top1" in out and os.path.isfile(elsewhere / "runs" / "teacher_resnet14" / "summary.json")
