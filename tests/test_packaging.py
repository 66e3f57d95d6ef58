"""What a user's ``pip install .`` or wheel gets: every module and every shipped config, and every command
working from any folder where no checkout and no editable install can be seen.

The sdist is built from a copy of the source tree, the wheel from the unpacked sdist (so a file the sdist
forgets is caught too), and the wheel is installed into a ``--target`` folder.  The commands then run with
``python -S`` (no site-packages processing, hence no ``.pth`` file and no editable finder) and a
``PYTHONPATH`` of that folder plus the folder that holds MindSpore and the other dependencies, from a folder
that is not the checkout.
"""
import glob
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile

import mindspore
import pytest

from conftest import REPO

DEPENDENCIES = os.path.dirname(os.path.dirname(mindspore.__file__))  # where pip put MindSpore, numpy, yaml, ...


def source_modules():
    """Every ``*.py`` file of the package in the source tree, as a path relative to the repository."""
    found = []
    for folder, dirs, files in os.walk(os.path.join(REPO, "ats_ms")):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "shipped_configs")]
        found += [os.path.relpath(os.path.join(folder, f), REPO).replace(os.sep, "/") for f in files if f.endswith(".py")]
    return sorted(found)


def source_configs():
    root = os.path.join(REPO, "configs")
    return sorted(os.path.relpath(p, root).replace(os.sep, "/")
                  for p in glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True))


# Imports every module named on the command line.  A module may fail only for want of an optional package that
# is really absent from this environment (a plain install has none of them); any other failure is a defect.
IMPORT_EVERY_MODULE = """
import importlib, importlib.util, sys
OPTIONAL = ("torch", "torchvision", "mindcv", "matplotlib", "tensorboardX", "sklearn")
for n in sys.argv[1:]:
    try:
        print(n, importlib.import_module(n).__file__)
    except Exception as exc:
        missing = getattr(exc, "package", None) or getattr(exc, "name", None) or ""
        top = missing.split(".")[0]
        if top not in OPTIONAL or importlib.util.find_spec(top) is not None:
            raise
        print(n, "needs", top)
"""


def _run(args, cwd, env, timeout=600):
    proc = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist path, wheel path, the --target folder the wheel was installed into)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"  # build from a copy, so the checkout stays as it is
    source.mkdir()
    for name in ("setup.py", "README.md", "MANIFEST.in", "run_train.sh", "pyproject.toml"):
        if os.path.exists(os.path.join(REPO, name)):
            shutil.copy(os.path.join(REPO, name), source / name)
    shutil.copytree(os.path.join(REPO, "ats_ms"), source / "ats_ms",
                    ignore=shutil.ignore_patterns("__pycache__", "shipped_configs", "*.egg-info"))
    shutil.copytree(os.path.join(REPO, "configs"), source / "configs")
    env = dict(os.environ, GLOG_v="3")
    _run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp / "dist")], source, env)
    (sdist,) = glob.glob(str(tmp / "dist" / "ats_ms-*.tar.gz"))
    unpacked = tmp / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (sdist_root,) = glob.glob(str(unpacked / "ats_ms-*"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", sdist_root,
          "-w", str(tmp / "dist")], tmp, env)
    (wheel,) = glob.glob(str(tmp / "dist" / "ats_ms-*.whl"))
    site = tmp / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel], tmp, env)
    shutil.rmtree(source)
    shutil.rmtree(unpacked)  # nothing may come from a source tree any more
    return sdist, wheel, site


def test_wheel_and_sdist_hold_every_module_and_config(built):
    sdist, wheel, _ = built
    modules, configs = source_modules(), source_configs()
    with zipfile.ZipFile(wheel) as z:
        in_wheel = set(z.namelist())
    assert [m for m in modules if m not in in_wheel] == []
    assert [c for c in configs if f"ats_ms/shipped_configs/{c}" not in in_wheel] == []
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert [m for m in modules if m not in in_sdist] == []
    assert [c for c in configs if f"configs/{c}" not in in_sdist] == []
    assert {"setup.py", "README.md", "run_train.sh"} <= in_sdist
    assert "ats_ms/cpu_conv/onednn_conv.cpp" in in_wheel and "ats_ms/cpu_conv/onednn_conv.cpp" in in_sdist


def test_installed_wheel_runs_every_command_where_no_checkout_is_visible(built, tmp_path):
    _, _, site = built
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(GLOG_v="3", PYTHONPATH=os.pathsep.join([str(site), DEPENDENCIES]),
               ATS_MS_CACHE_DIR=str(tmp_path / "cache"))  # the CPU convolution is compiled from the wheel's source
    python = [sys.executable, "-S"]

    names = [m[:-len(".py")].replace("/", ".").replace(".__init__", "") for m in source_modules()]
    imported = _run(python + ["-c", IMPORT_EVERY_MODULE] + names, elsewhere, env)
    lines = imported.splitlines()
    assert len(lines) == len(names)
    assert all(line.split()[1].startswith(str(site)) for line in lines if line.split()[1] != "needs"), imported

    doctor = _run(python + ["-m", "ats_ms.doctor"], elsewhere, env, timeout=300)
    assert f"all {len(names)} modules present" in doctor and "verdict: ats_ms can train on CPU here" in doctor
    gpu = subprocess.run(python + ["-m", "ats_ms.doctor", "--device", "GPU"], capture_output=True, text=True,
                         cwd=elsewhere, env=env, timeout=300).stdout
    assert 'pip install "ats_ms[gpu]"' in gpu and '-e ".[gpu]"' not in gpu  # a wheel has no checkout to install -e

    launched = _run(python + ["-m", "ats_ms.launch", "--config", "quickstart/digits_teacher", "--devices", "2",
                              "--dry-run"], elsewhere, env)
    assert launched.startswith("msrun --worker_num=2") and f"{site}/ats_ms/launch/train_worker.py" in launched

    listing = _run(python + ["-m", "ats_ms.configs"], elsewhere, env)
    for name in ("quickstart/digits_teacher", "cifar100/ats_paper/resnet110_to_vgg8/ats", "recipes/demo"):
        assert name in listing, name
    run_dir = _run(python + ["-m", "ats_ms.train", "--config", "cifar100/ats_paper/resnet110_to_vgg8/ats",
                             "--print-run-dir"], elsewhere, env)
    assert run_dir.strip() == os.path.join("runs", "cifar100", "ats_paper", "resnet110_to_vgg8_ats")

    out = _run(python + ["-m", "ats_ms.train", "--config", "quickstart/digits_teacher", "experiment.output_dir=runs",
                         "experiment.name=t", "schedule.epochs=1", "model.arch=resnet8", "data.train_samples=256"],
               elsewhere, env)
    assert "done: best top1" in out
    if platform.machine() == "x86_64":  # where PyPI has oneDNN headers (the test extra installs them)
        # found through the installed package's own record: a -S interpreter does not know its environment's prefix
        assert "conv      oneDNN direct" in out, out
    assert "exported by you" not in out  # the pytest process's own import of ats_ms passed nothing on
    run = elsewhere / "runs" / "t"
    assert (run / "summary.json").is_file()
    evaluated = _run(python + ["-m", "ats_ms.eval", "--config", str(run / "config.yaml"), "--checkpoint",
                               str(run / "best.ckpt")], elsewhere, env)
    assert "top1" in evaluated
    table = _run(python + ["-m", "ats_ms.report", "runs"], elsewhere, env)
    assert "resnet8" in table


def test_a_method_from_the_users_own_package_trains_from_a_wheel(built, tmp_path):
    """The methods tutorial (docs/methods.md): a method in a package of its own, declared under the ats_ms.methods
    entry points, built as a wheel and installed beside ats_ms's wheel; a run that names it trains, with its own
    config section and setup line, where no checkout is visible."""
    _, _, site = built
    page = open(os.path.join(REPO, "docs", "methods.md"), encoding="utf-8").read()
    module = page.split("<!-- worked-example:start -->")[1].split("<!-- worked-example:end -->")[0]
    project = page.split("<!-- plugin-pyproject:start -->")[1].split("<!-- plugin-pyproject:end -->")[0]
    source = tmp_path / "my_methods"  # the tutorial's folder: the two files, nothing else
    source.mkdir()
    (source / "logit_mse.py").write_text(module.split("```python\n")[1].split("```")[0])
    (source / "pyproject.toml").write_text(project.split("```toml\n")[1].split("```")[0])
    env = dict(os.environ, GLOG_v="3")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(source), "-w",
          str(tmp_path / "dist")], tmp_path, env)
    (wheel,) = glob.glob(str(tmp_path / "dist" / "ats_ms_logit_mse-*.whl"))
    plugin_site = tmp_path / "plugin_site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(plugin_site), wheel], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "ATS_MS_METHODS")}
    env.update(GLOG_v="3", PYTHONPATH=os.pathsep.join([str(site), str(plugin_site), DEPENDENCIES]),
               ATS_MS_CACHE_DIR=str(tmp_path / "cache"))
    python = [sys.executable, "-S", "-m", "ats_ms.train", "--config", "quickstart/digits_teacher",
              "experiment.output_dir=runs", "schedule.epochs=1", "model.arch=resnet8", "data.train_samples=256"]
    _run(python + ["experiment.name=t"], elsewhere, env)
    out = _run(python + ["experiment.name=s", "distill.method=logit_mse", "distill.logit_mse.weight=0.1",
                         "teacher.arch=resnet8", "teacher.checkpoint=runs/t/best.ckpt"], elsewhere, env)
    assert "method    logit_mse: 0.5 CE + 0.1 x MSE(logits)" in out and "done: best top1" in out
    refused = subprocess.run(python + ["experiment.name=x", "distill.method=logit_mse", "distill.logit_mse.weight=-1",
                                       "teacher.arch=resnet8", "teacher.checkpoint=runs/t/best.ckpt"],
                             capture_output=True, text=True, cwd=elsewhere, env=env)
    assert refused.returncode == 2 and "'distill.logit_mse.weight' must be >= 0" in refused.stderr
