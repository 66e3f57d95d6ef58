"""ats_ms.common.optional: without its optional packages every module imports (or says which extra it needs), and a
command that needs a missing package names the extra in one paragraph and exits 2.

The packages are hidden in a child process the way an absent package behaves (``sys.modules[name] = None``
makes ``import name`` raise ModuleNotFoundError), so these tests hold whatever this machine has installed."""
import os
import subprocess
import sys

import pytest

from test_packaging import source_modules
from train_helpers import REPO

OPTIONAL = ("torch", "torchvision", "mindcv", "matplotlib", "tensorboardX", "sklearn")  # SciPy comes with MindSpore
HIDE = "import sys\nfor _n in %r:\n    sys.modules[_n] = None\n" % (OPTIONAL,)


def _hidden(code, args=(), cwd=REPO):
    env = dict(os.environ, GLOG_v="3")
    return subprocess.run([sys.executable, "-c", HIDE + code] + list(args), capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def _command(module, args, cwd=REPO):
    code = f"import runpy\nsys.argv = [{module!r}] + sys.argv[1:]\nrunpy.run_module({module!r}, run_name='__main__')"
    return _hidden(code, args, cwd)


def test_every_module_imports_or_names_its_extra_without_the_optional_packages():
    names = [m[:-len(".py")].replace("/", ".").replace(".__init__", "") for m in source_modules()]
    names = [n for n in names if not n.endswith("__main__")]
    code = ("import importlib\nfrom ats_ms.common.optional import MissingExtra\n"
            "for n in sys.argv[1:]:\n    try:\n        importlib.import_module(n)\n"
            "    except MissingExtra as exc:\n        print(n, 'needs', exc.package, exc.extra)\n")
    proc = _hidden(code, names)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # only the modules that exist to serve PyTorch (its reference networks and the PyTorch twin) need it
    assert sorted(proc.stdout.splitlines()) == [f"{m} needs torch torch" for m in (
        "ats_ms.interop.torch_reference", "ats_ms.twin.compare", "ats_ms.twin.torch_side")]


@pytest.mark.parametrize("module,args,extra", [
    ("ats_ms.convert", ["--arch", "resnet20", "--input", "x.pth", "--output", "y.ckpt"], "torch"),
    ("ats_ms.train", ["--config", "quickstart/digits_teacher", "--print-run-dir"], None),
    ("ats_ms.data", ["--config", "quickstart/digits_teacher"], "demo"),
])
def test_a_command_that_needs_a_missing_package_names_its_extra(tmp_path, module, args, extra):
    (tmp_path / "x.pth").write_bytes(b"0" * 64)
    proc = _command(module, args, cwd=str(tmp_path))
    if extra is None:  # needs none of them
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2, proc.stderr
    message = " ".join(proc.stderr.split())
    assert f'pip install -e ".[{extra}]"' in message and "Traceback" not in message  # run from this checkout
    if extra == "torch":  # a plain torch install is PyTorch's CUDA build: the hint says so and how to avoid it
        assert "CUDA build" in message and "https://download.pytorch.org/whl/cpu" in message


def test_an_extra_is_named_the_way_ats_ms_was_installed(monkeypatch):
    from ats_ms.common import optional
    monkeypatch.setattr(optional, "from_checkout", lambda: False)
    assert optional.extra_command("gpu") == 'pip install "ats_ms[gpu]"'
    assert optional.install_hint("matplotlib") == 'pip install "ats_ms[plot]" (or pip install matplotlib)'
    monkeypatch.setattr(optional, "from_checkout", lambda: True)
    assert optional.extra_command("gpu") == 'pip install -e ".[gpu]"'


def test_report_figures_need_matplotlib_and_the_table_does_not(tmp_path):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("model: {arch: resnet8}\ndistill: {method: none}\ndata: {name: digits}\n"
                                     "teacher: {arch: null}\nexperiment: {seed: 0}\n")
    (run / "summary.json").write_text('{"best_top1": 50.0, "last_top1": 49.0, "epochs": 1}')
    table = _command("ats_ms.report", [str(tmp_path / "runs")])
    assert table.returncode == 0 and "resnet8" in table.stdout, table.stderr
    figure = _command("ats_ms.report", [str(tmp_path / "runs"), "--curves", str(tmp_path / "c.png")])
    assert figure.returncode == 2 and 'pip install -e ".[plot]"' in figure.stderr and "Traceback" not in figure.stderr
