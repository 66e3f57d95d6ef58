"""ats_ms.process.cpu_isa: which ONEDNN_MAX_CPU_ISA a process gets in which situation (never a timing)."""
import os
import subprocess
import sys

import pytest

from ats_ms.process import cpu_isa
from ats_ms.config import load_config
from train_helpers import REPO

BUILDABLE = lambda: None  # noqa: E731  the oneDNN convolution can be had
UNBUILDABLE = lambda: "no C++ compiler (c++, g++, clang++) on PATH"  # noqa: E731


def _cfg(*overrides):
    return load_config(None, list(overrides))


@pytest.mark.parametrize("overrides,user,probe,expected,why", [
    ([], None, BUILDABLE, None, "goes through ats_ms's oneDNN convolution"),
    (["runtime.cpu_conv=onednn"], None, BUILDABLE, None, "goes through ats_ms's oneDNN convolution"),
    ([], "AVX512_CORE", BUILDABLE, "AVX512_CORE", "exported by you"),
    ([], "AVX2", BUILDABLE, "AVX2", "exported by you"),
    (["runtime.cpu_conv=builtin"], None, BUILDABLE, "AVX2", "runtime.cpu_conv: builtin"),
    (["model.arch=mindcv:resnet18"], None, BUILDABLE, "AVX2", "mindcv:resnet18 runs MindSpore's convolution"),
    (["distill.method=ats", "teacher.arch=mindcv:resnet50", "teacher.checkpoint=t.ckpt"], None, BUILDABLE, "AVX2",
     "mindcv:resnet50"),
    (["runtime.amp_level=O2"], None, BUILDABLE, "AVX2", "AMP O2"),
    (["runtime.device_target=GPU"], None, BUILDABLE, "AVX2", "a GPU run"),
    ([], None, UNBUILDABLE, "AVX2", "cannot be had here (no C++ compiler"),
])
def test_the_cap_is_lifted_only_where_mindspores_convolution_never_runs(overrides, user, probe, expected, why):
    decision = cpu_isa.choose([_cfg(*overrides)], user_value=user, onednn_unavailable=probe)
    assert decision.value == expected and why in decision.reason


def test_one_config_that_needs_the_cap_keeps_it_for_the_whole_process():
    decision = cpu_isa.choose([_cfg(), _cfg("runtime.cpu_conv=builtin")], onednn_unavailable=BUILDABLE)
    assert decision.value == "AVX2"


def test_a_run_says_which_isa_is_in_force_and_why(tmp_path):
    """The environment of the training process and its setup block agree with the decision."""
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    env["GLOG_v"] = "3"
    code = ("import os, sys\nfrom ats_ms.process import cpu_isa\nfrom ats_ms.process.startup import prepare_process\n"
            "from ats_ms.config import load_config\n"
            "d = prepare_process(load_config(None, sys.argv[1:]))\n"
            "print(os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset'), '|', cpu_isa.current().describe())\n")
    out = {}
    for name, extra in (("builtin", ["runtime.cpu_conv=builtin"]), ("auto", [])):
        proc = subprocess.run([sys.executable, "-c", code] + extra, capture_output=True, text=True, env=env,
                              cwd=REPO, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out[name] = proc.stdout.strip()
    assert out["builtin"].startswith("AVX2 | AVX2: runtime.cpu_conv: builtin")
    expected = "unset | no cap" if cpu_isa._onednn_unavailable() is None else "AVX2 | AVX2"
    assert out["auto"].startswith(expected), out["auto"]
    exported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                              env=dict(env, ONEDNN_MAX_CPU_ISA="AVX512_CORE"))
    assert exported.stdout.startswith("AVX512_CORE | AVX512_CORE: exported by you"), exported.stdout
