"""``ats_ms.doctor`` and the GPU/Ascend code paths, as far as a machine without accelerators allows."""
import os
import shutil
import subprocess
import sys

import pytest

from ats_ms.process import gpu_libs
from ats_ms.doctor import checks
from ats_ms.doctor.elf import needed_libraries, search_path
from ats_ms.doctor.libraries import Resolver
from ats_ms.engine.runtime import distributed_device_id
from conftest import REPO

# the keyword MindSpore's plugin loader looks for in `nvcc --version` (device_context_manager.cc)
NVCC_KEYWORD = "Cuda compilation tools, release "


def test_doctor_reports_cpu_ready_and_names_what_gpu_lacks():
    env = dict(os.environ, GLOG_v="3")
    env.pop("CUDA_HOME", None)
    proc = subprocess.run([sys.executable, "-m", "ats_ms.doctor", "--device", "CPU", "--device", "GPU"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr  # GPU was requested and cannot train here
    assert "[ok]   MindSpore: 2.10" in out and "[ok]   numpy: 1." in out
    assert "CPU: trains: init" in out and "ATS step" in out and "verdict: ats_ms can train on CPU here." in out
    if gpu_libs.wheel_library_paths():
        pytest.skip("the [gpu] extra is installed in this environment")
    for soname in ("libcudart.so.11.0", "libcublas.so.11", "libcudnn.so.8", "libcurand.so.10", "libcusolver.so.11",
                   "libcufft.so.10", "libcusparse.so.11", "libnvrtc.so.11.2"):
        assert f"[FAIL] {soname}: missing" in out, soname
    assert 'fix: pip install -e ".[gpu]"' in out and "libcuda.so.1 (NVIDIA driver): missing" in out
    assert "[FAIL] GPU: cannot be used" in out and "verdict: ats_ms cannot train on GPU here" in out
    gpu_verdict = next(line for line in out.splitlines() if "GPU: cannot be used" in line)
    assert "libge_runner" not in gpu_verdict and len(gpu_verdict) < 200, gpu_verdict  # one readable line
    assert "CANN" not in out and "[info] Ascend: python -m ats_ms.doctor --device Ascend" in out  # not asked for
    assert "Traceback" not in proc.stderr


def test_the_doctor_names_modules_an_install_lost(tmp_path):
    """A wheel built from a tree whose folder lacked __init__.py lost that folder's modules: the build-time
    list names them; in a source tree, the folder itself is named."""
    from ats_ms.doctor import package
    installed = tmp_path / "site" / "ats_ms"
    (installed / "losses").mkdir(parents=True)
    for name in ("__init__.py", "losses/__init__.py", "losses/ats.py"):
        (installed / name).write_text("")
    (installed / "_modules.txt").write_text("ats_ms\nats_ms.engine\nats_ms.engine.trainer\nats_ms.losses\n"
                                            "ats_ms.losses.ats\n")
    lines = package.check(str(installed))
    assert lines[0][0] == "fail" and "2 of the 5 modules" in lines[0][2] and "ats_ms.engine.trainer" in lines[0][2]
    assert not any(status == "ok" for status, *_ in lines)

    source = tmp_path / "src" / "ats_ms"
    (source / "engine").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "engine" / "trainer.py").write_text("")
    assert package.folders_without_init(str(source)) == ["ats_ms/engine"]
    assert package.check(str(source))[0][:2] == ("fail", "source tree")


def test_probe_errors_become_one_readable_line():
    from ats_ms.doctor.__main__ import short_error
    raw = ("RuntimeError: Unsupported device target GPU. This process only supports one of the ['CPU']. Please check "
           "whether the GPU environment is installed ... | Load dynamic library: libmindspore_ascend.so.2 failed. "
           "libge_runner.so: cannot open shared object file: No such file or directory")
    assert short_error("GPU", raw) == "MindSpore could not load its GPU backend (this process can use: CPU)"
    assert short_error("CPU", "ValueError: bad. second sentence") == "ValueError: bad."


def test_elf_reader_agrees_with_readelf_on_mindsporess_plugins():
    folder = checks.plugin_dir()
    plugins = [os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("libmindspore_")]
    assert any("gpu" in p for p in plugins) and any("ascend" in p for p in plugins)
    if not shutil.which("readelf"):
        pytest.skip("readelf is not installed")
    for plugin in plugins:
        dump = subprocess.run(["readelf", "-d", plugin], capture_output=True, text=True, check=True).stdout
        expected = [line.split("[")[1].split("]")[0] for line in dump.splitlines() if "(NEEDED)" in line]
        assert needed_libraries(plugin) == expected, plugin
    gpu = checks.gpu_plugins()[-1]
    assert os.path.join(os.path.dirname(gpu), "gpu") in search_path(gpu)  # $ORIGIN/gpu expanded


def _fake_wheels(root):
    """The folder layout the nvidia-*-cu11 wheels install (empty files stand for the libraries)."""
    for wheel, sonames in gpu_libs.WHEEL_LIBS:
        os.makedirs(os.path.join(root, "nvidia", wheel, "lib"))
        for soname in sonames:
            open(os.path.join(root, "nvidia", wheel, "lib", soname), "w").close()
    return os.path.join(root, "nvidia")


def test_with_the_gpu_wheels_every_library_resolves_but_the_drivers(tmp_path, monkeypatch):
    root = _fake_wheels(str(tmp_path))
    paths = gpu_libs.wheel_library_paths(root)
    lines = checks.gpu_libraries(resolver=Resolver(paths, env={}))
    failed = [c.name for c in lines if c.status == "fail"]
    assert failed == ["libcuda.so.1 (NVIDIA driver)"], failed
    assert all("(pip wheel)" in c.detail for c in lines if c.status == "ok")
    # and MindSpore's plugin choice: the stand-in nvcc reports the runtime wheel's version as nvcc does
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(gpu_libs, "runtime_version", lambda: "11.8.89")
    monkeypatch.setattr(gpu_libs, "wheel_library_paths", lambda root=None: paths)
    home = gpu_libs.nvcc_home()
    out = subprocess.run([os.path.join(home, "bin", "nvcc"), "--version"], capture_output=True, text=True).stdout
    assert NVCC_KEYWORD + "11.8," in out
    (line,) = checks.gpu_toolchain(env={})
    assert line.status == "ok" and line.detail.startswith("CUDA 11.8 from ats_ms's nvcc stand-in")


def test_cuda_home_of_another_major_version_is_named(tmp_path):
    nvcc = tmp_path / "bin" / "nvcc"
    nvcc.parent.mkdir()
    nvcc.write_text(f"#!/bin/sh\necho '{NVCC_KEYWORD}12.4, V12.4.131'\n")
    nvcc.chmod(0o755)
    (line,) = checks.gpu_toolchain(env={"CUDA_HOME": str(tmp_path)})
    assert line.status == "fail" and "CUDA 12.4" in line.detail and "built for CUDA 11" in line.fix


def test_cpu_trap_verdicts(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n")
    assert checks.cpu_traps(str(cpuinfo), env={})[0].status == "ok"  # ats_ms caps each process where needed
    exported = checks.cpu_traps(str(cpuinfo), env={"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"})[0]
    assert exported.status == "fail" and "ONEDNN_MAX_CPU_ISA=AVX2" in exported.fix
    assert checks.cpu_traps(str(cpuinfo), env={"ONEDNN_MAX_CPU_ISA": "avx2"})[0].status == "ok"
    bogus = checks.cpu_traps(str(cpuinfo), env={"ONEDNN_MAX_CPU_ISA": "bogus"})[0]
    assert bogus.status == "fail" and "AVX512_CORE_AMX" in bogus.detail
    cpuinfo.write_text("flags\t\t: fpu sse2 avx2\n")
    assert checks.cpu_traps(str(cpuinfo), env={})[0].status == "ok"


def test_numpy_2_is_named(monkeypatch):
    real = checks._version
    monkeypatch.setattr(checks, "_version", lambda dist: "2.1.0" if dist == "numpy" else real(dist))
    line = [c for c in checks.versions() if c.name == "numpy"][0]
    assert line.status == "fail" and "numpy<2" in line.fix


def test_ascend_environment_checks(tmp_path):
    lines = checks.ascend_environment(env={})
    assert lines[0].status == "fail" and "set_env.sh" in lines[0].fix
    assert any(c.name == "libascendcl.so" and c.status == "fail" for c in lines)
    lib64 = tmp_path / "latest" / "lib64"
    lib64.mkdir(parents=True)
    for soname in ("libge_runner.so", "libgraph.so", "libascendcl.so", "libmsprofiler.so"):
        (lib64 / soname).write_text("")
    env = {"ASCEND_HOME_PATH": str(tmp_path / "latest"), "ASCEND_OPP_PATH": "x", "ASCEND_AICPU_PATH": "y",
           "LD_LIBRARY_PATH": str(lib64)}
    ok = checks.ascend_environment(env=env, resolver=Resolver(env=env))
    assert [c.name for c in ok if c.status == "fail"] == ["Ascend driver"]


@pytest.mark.parametrize("env,expected", [
    ({"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "8", "DEVICE_ID": "3"}, None),  # msrun negotiates
    ({"DEVICE_ID": "5", "RANK_ID": "5", "RANK_TABLE_FILE": "t.json"}, 5),      # rank table
    ({"OMPI_COMM_WORLD_LOCAL_RANK": "2", "OMPI_COMM_WORLD_RANK": "10"}, 2),    # mpirun: the local rank
    ({}, None),
])
def test_each_launcher_gets_its_own_device(env, expected):
    assert distributed_device_id(env) == expected


@pytest.mark.parametrize("env,launched", [({"MS_ROLE": "MS_WORKER"}, True), ({"OMPI_COMM_WORLD_RANK": "1"}, True),
                                          ({"RANK_TABLE_FILE": "/t.json"}, True), ({}, False)])
def test_a_worker_that_a_launcher_started_is_not_told_to_use_the_launcher(env, launched, monkeypatch):
    """When the communication backend does not start, a launched worker is pointed at the scheduler's address and
    port; a process started by hand is pointed at the launcher.  The backend's failure is simulated in-process
    (a real one waits minutes for its scheduler)."""
    import mindspore.communication
    from ats_ms.common.errors import ConfigError
    from ats_ms.config import load_config
    from ats_ms.engine.runtime import setup_runtime

    def refuse():
        raise RuntimeError("The scheduler did not answer\nstack lines")

    for var in ("MS_ROLE", "MS_WORKER_NUM", "OMPI_COMM_WORLD_RANK", "RANK_TABLE_FILE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(mindspore.communication, "init", refuse)
    cfg = load_config(None, ["runtime.distributed=true", "runtime.cpu_conv=builtin"])
    with pytest.raises(ConfigError) as caught:
        setup_runtime(cfg.runtime)
    message = str(caught.value)
    assert "(The scheduler did not answer)" in message
    assert ("scheduler's address and port" in message) is launched, message
    assert ("Launch through python -m ats_ms.launch" in message) is not launched, message


def test_no_probe_exits_by_the_static_checks_alone():
    """--no-probe gives no verdict on training: exit 0 when every static check passes, 1 when one fails."""
    env = dict(os.environ, GLOG_v="3")
    env.pop("CUDA_HOME", None)
    cpu = subprocess.run([sys.executable, "-m", "ats_ms.doctor", "--no-probe"], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=300)
    assert cpu.returncode == 0 and "verdict: CPU not tried (--no-probe)." in cpu.stdout, cpu.stdout + cpu.stderr
    if gpu_libs.wheel_library_paths():
        return  # the [gpu] extra is installed here: its static checks may pass
    gpu = subprocess.run([sys.executable, "-m", "ats_ms.doctor", "--device", "GPU", "--no-probe"], capture_output=True,
                         text=True, cwd=REPO, env=env, timeout=300)
    assert gpu.returncode == 1 and "[FAIL] libcudart.so.11.0: missing" in gpu.stdout, gpu.stdout
