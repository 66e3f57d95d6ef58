"""ats_ms.process._env: importing ats_ms sets MindSpore's log level and exports nothing that changes a run (a child
process starts with the user's own environment); a user's own script that builds an ats_ms network gets the AVX2
cap inside its process; MindSpore's compile cache is refused before anything is written."""
import os
import subprocess
import sys

CHECK = ("import os, sys, ats_ms\nfrom ats_ms.process import cpu_isa\nfrom ats_ms.models import create_model\n"
         "create_model('resnet8', 10)\n"
         "print(os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset'), '|', 'mindspore' in sys.modules, '|',"
         " cpu_isa.current().value, '|', cpu_isa.in_force_name())")


def _after_import(env):
    return [p.strip() for p in subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True,
                                              check=True).stdout.split("|")]


def test_a_script_building_a_network_is_capped_inside_its_process_and_exports_nothing():
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    exported, _, chosen, in_force = _after_import(env)
    assert (exported, chosen) == ("unset", "AVX2")
    assert in_force in ("AVX2", "AVX2_VNNI", "AVX", "SSE41", "None")  # the CPU's best at or below AVX2


def test_the_users_export_is_left_to_onednn():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX")
    exported, _, _, in_force = _after_import(env)
    assert exported == "AVX" and in_force in ("AVX", "None")


def test_importing_ats_ms_loads_no_mindspore_and_sets_no_instruction_set():
    code = "import os, sys, ats_ms; print(os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset'), 'mindspore' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["unset", "False"]


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
