"""ats_ms.process._env: the CPU defaults applied when ats_ms is imported, before MindSpore loads; the user's own
setting wins; MindSpore's compile cache is refused before anything is written."""
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


def test_mindspores_compile_cache_is_refused_before_anything_is_written(tmp_path):
    """With MS_COMPILER_CACHE_ENABLE=1, MindSpore 2.10 loaded a TS run's graph for the ATS run after it (same
    networks, other temperatures) and trained it as TS; a run refuses to start under it, naming the variable."""
    env = dict(os.environ, GLOG_v="3", MS_COMPILER_CACHE_ENABLE="1", MS_COMPILER_CACHE_PATH=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "ats_ms.train", "--config", "quickstart/digits_teacher",
                           f"experiment.output_dir={tmp_path / 'runs'}"], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "MS_COMPILER_CACHE_ENABLE is set" in proc.stderr and "Unset MS_COMPILER_CACHE_ENABLE" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs").exists()
