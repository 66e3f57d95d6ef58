import os
import subprocess
import sys


def _isa_after_import(env):
    code = "import os, ats_ms; print(os.environ.get('ONEDNN_MAX_CPU_ISA'))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_sets_avx2_cap_by_default():
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    assert _isa_after_import(env) == "AVX2"


def test_user_setting_wins():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2_VNNI")
    assert _isa_after_import(env) == "AVX2_VNNI"


def test_set_before_mindspore_is_loaded():
    code = "import sys, ats_ms; print('mindspore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
