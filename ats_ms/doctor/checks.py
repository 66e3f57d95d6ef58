"""The doctor's checks: each returns ``Check`` lines (ok / warn / fail, what was seen, the fix).

Written against what MindSpore 2.10 itself does: it loads its device plugins from
``mindspore/lib/plugin`` when imported, tries the GPU plugin only when ``CUDA_HOME`` is set and picks the
CUDA 11.1 or 11.6 build from ``$CUDA_HOME/bin/nvcc --version``; the plugins' library needs are read from
their ELF headers; the Ascend plugin needs the CANN toolkit's libraries and the Ascend driver, which
CANN's ``set_env.sh`` puts on the library path.
"""
import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
from dataclasses import dataclass

from ats_ms.common.errors import AtsError
from ats_ms.common.optional import extra_command
from ats_ms.process import gpu_libs
from ats_ms.doctor.elf import needed_libraries, search_path
from ats_ms.doctor.libraries import SYSTEM_LIBS, Resolver

# Libraries MindSpore's GPU plugin opens at run time (dlopen) rather than through its ELF needs.
GPU_RUNTIME_OPENED = ("libcusolver.so.11", "libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8",
                      "libcudnn_ops_train.so.8", "libcudnn_cnn_train.so.8")
CANN_HOMES = ("/usr/local/Ascend/ascend-toolkit/latest", os.path.expanduser("~/Ascend/ascend-toolkit/latest"),
              "/usr/local/Ascend/cann")
ASCEND_DRIVER_LIB = "/usr/local/Ascend/driver/lib64/driver/libascend_hal.so"
FAST_ISAS = ("AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX", "SSE41")


@dataclass
class Check:
    name: str
    status: str       # ok | warn | fail | info
    detail: str
    fix: str = ""


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def mindspore_dir():
    spec = importlib.util.find_spec("mindspore")
    return os.path.dirname(spec.origin) if spec and spec.origin else None


def plugin_dir():
    root = mindspore_dir()
    return os.path.join(root, "lib", "plugin") if root else None


def gpu_plugins():
    folder = plugin_dir()
    if not folder or not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("libmindspore_gpu.so."))


def versions():
    import ats_ms  # pylint: disable=import-outside-toplevel
    numpy = _version("numpy")
    return [Check("ats_ms", "info", ats_ms.__version__),
            Check("MindSpore", "ok" if _version("mindspore") else "fail", _version("mindspore") or "not installed",
                  "pip install 'mindspore>=2.10,<2.11'"),
            Check("numpy", "fail" if numpy and int(numpy.split(".")[0]) >= 2 else "ok", numpy or "not installed",
                  "pip install 'numpy<2' (MindSpore 2.10's first eager op fails with numpy 2)"),
            Check("Python", "info", platform.python_version()),
            Check("platform", "info", f"{platform.platform()}, {os.cpu_count()} CPUs")]


def backends():
    folder = plugin_dir()
    if not folder or not os.path.isdir(folder):
        return [Check("backends", "fail", "MindSpore's plugin folder was not found", "reinstall mindspore")]
    files = os.listdir(folder)
    has = {"CPU": "libmindspore_ops_cpu.so" in files or os.path.isdir(os.path.join(folder, "cpu")),
           "GPU": any(f.startswith("libmindspore_gpu.so.") for f in files),
           "Ascend": any(f.startswith("libmindspore_ascend.so") for f in files)}
    cuda = ", ".join(p.rsplit(".so.", 1)[1] for p in gpu_plugins())
    return [Check(f"{name} backend in the wheel", "ok" if ok else "info",
                  ("present" + (f" (CUDA {cuda} builds)" if name == "GPU" and cuda else "")) if ok else "absent")
            for name, ok in has.items()]


def cpu_traps(cpuinfo_path="/proc/cpuinfo", env=None):
    """On an AVX-512 CPU: whether MindSpore's convolution keeps its fast path, given what the user exported
    (ats_ms itself caps each process at AVX2 where that convolution runs; ``ats_ms.process.cpu_isa``)."""
    from ats_ms.process import cpu_isa  # pylint: disable=import-outside-toplevel
    env = os.environ if env is None else env
    try:
        with open(cpuinfo_path, encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    name = "CPU convolution path"
    try:
        exported = cpu_isa.user_value(env)
    except AtsError as exc:
        return [Check(name, "fail", str(exc), f"unset {cpu_isa.VAR}, or export one of the values named")]
    if "avx512f" not in flags:
        return [Check(name, "ok", "no AVX-512: oneDNN's fast AVX2 kernels are used")]
    if exported is None:
        return [Check(name, "ok", "AVX-512 CPU: ats_ms caps oneDNN at AVX2 in each process where MindSpore's convolution "
                                  "runs and lifts the cap where every convolution is its own oneDNN one (each run's "
                                  "setup block has a 'cpu isa' line saying which and why)")]
    if exported in FAST_ISAS:
        return [Check(name, "ok", f"AVX-512 CPU, {cpu_isa.VAR}={exported} exported by you: MindSpore's convolution "
                                  "keeps its fast path; ats_ms's oneDNN convolution runs below its best")]
    return [Check(name, "fail", f"AVX-512 CPU with {cpu_isa.VAR}={exported} exported by you: MindSpore >= 2.9 falls "
                                "back to oneDNN's reference convolution, about 40x slower, in runs that use it",
                  f"unset {cpu_isa.VAR} (ats_ms then chooses per run), or export {cpu_isa.VAR}=AVX2")]


def gpu_libraries(resolver=None, plugin=None):
    """One line per CUDA library the GPU plugin needs (from its ELF header and its run-time opens)."""
    plugin = plugin or (gpu_plugins() or [None])[-1]
    if plugin is None:
        return [Check("GPU plugin", "fail", "this MindSpore wheel has no GPU plugin", "install the MindSpore wheel "
                      "for your platform (pip install mindspore gives CPU, GPU and Ascend on x86_64 Linux)")]
    resolver = resolver or Resolver(gpu_libs.wheel_library_paths())
    rpath = search_path(plugin)
    needs = [n for n in needed_libraries(plugin) if n.startswith(("libcu", "libnvrtc")) and n != "libcuda_ops.so.11"]
    needs = [n for n in needs if n != gpu_libs.DRIVER_LIB]
    needs += [n for n in GPU_RUNTIME_OPENED if n not in needs]
    lines = []
    for soname in needs:
        path, how = resolver.find(soname, rpath)
        lines.append(Check(soname, "ok" if path else "fail", f"{path} ({how})" if path else "missing",
                           "" if path else f"{extra_command('gpu')} (the CUDA 11 / cuDNN 8 wheels), or put a CUDA 11 "
                                           "toolkit and cuDNN 8 on LD_LIBRARY_PATH"))
    path, how = resolver.find(gpu_libs.DRIVER_LIB, rpath)
    lines.append(Check(f"{gpu_libs.DRIVER_LIB} (NVIDIA driver)", "ok" if path else "fail",
                       f"{path} ({how})" if path else "missing: no NVIDIA driver on this machine",
                       "" if path else "install the NVIDIA driver (it is never in a pip wheel)"))
    return lines


def gpu_toolchain(env=None):
    """CUDA_HOME and nvcc, which MindSpore uses to choose between its CUDA 11.1 and 11.6 GPU plugins."""
    env = os.environ if env is None else env
    home = env.get("CUDA_HOME") or gpu_libs.nvcc_home()
    source = "CUDA_HOME" if env.get("CUDA_HOME") else \
        f"ats_ms's nvcc stand-in for the nvidia-cuda-runtime-cu11 {gpu_libs.runtime_version()} wheel (CUDA_HOME={home})"
    if not home:
        return [Check("CUDA_HOME / nvcc", "fail", "CUDA_HOME is unset and no CUDA 11 runtime wheel is installed: "
                      "MindSpore will not even try its GPU plugin",
                      f"{extra_command('gpu')}, or export CUDA_HOME=<a CUDA 11 toolkit>")]
    nvcc = os.path.join(home, "bin", "nvcc")
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError as exc:
        return [Check("CUDA_HOME / nvcc", "fail", f"{nvcc} cannot run ({exc.strerror})",
                      "point CUDA_HOME at a CUDA 11 toolkit, or unset it and install the [gpu] extra")]
    match = re.search(r"release (\d+)\.(\d+)", out)
    if not match:
        return [Check("CUDA_HOME / nvcc", "fail", f"{nvcc} printed no CUDA release", "check CUDA_HOME")]
    version = f"{match[1]}.{match[2]}"
    return [Check("CUDA_HOME / nvcc", "ok" if match[1] == "11" else "fail", f"CUDA {version} from {source}",
                  "" if match[1] == "11" else "MindSpore 2.10's GPU plugins are built for CUDA 11: unset CUDA_HOME "
                                              'and install the [gpu] extra')]


def nvidia_smi():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return [Check("nvidia-smi", "info", "not found (no NVIDIA driver tools)")]
    gpus = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return [Check("nvidia-smi", "ok" if gpus else "warn", "; ".join(gpus) or out.stderr.strip()[:200])]


def ascend_environment(env=None, resolver=None):
    """The CANN toolkit and Ascend driver MindSpore's Ascend plugin needs, set up by CANN's set_env.sh."""
    env = os.environ if env is None else env
    home = env.get("ASCEND_HOME_PATH") or env.get("ASCEND_TOOLKIT_HOME")
    installed = next((h for h in CANN_HOMES if os.path.isdir(h)), None)
    lines = []
    if home:
        lines.append(Check("CANN environment", "ok", f"ASCEND_HOME_PATH={home}"))
    elif installed:
        lines.append(Check("CANN environment", "fail", f"CANN is installed at {installed} but its environment is not "
                           "set", f"source {os.path.join(os.path.dirname(installed), 'set_env.sh')}"))
    else:
        lines.append(Check("CANN environment", "fail", "no CANN toolkit found (ASCEND_HOME_PATH unset; none in "
                           f"{', '.join(CANN_HOMES)})", "install the CANN toolkit matching MindSpore 2.10, then "
                           "source /usr/local/Ascend/ascend-toolkit/set_env.sh"))
    for var in ("ASCEND_OPP_PATH", "ASCEND_AICPU_PATH"):
        lines.append(Check(var, "ok" if env.get(var) else "fail", env.get(var) or "unset",
                           "" if env.get(var) else "source <CANN>/set_env.sh"))
    folder = plugin_dir()
    plugin = os.path.join(folder, "libmindspore_ascend.so.2") if folder else None
    if plugin and os.path.exists(plugin):
        resolver = resolver or Resolver(extra_dirs=[os.path.join(h, "lib64") for h in filter(None, (home, installed))])
        rpath = search_path(plugin)
        for soname in needed_libraries(plugin):
            if soname in SYSTEM_LIBS or soname.startswith("libmindspore") or soname == "libgomp.so.1":
                continue
            path, how = resolver.find(soname, rpath)
            lines.append(Check(soname, "ok" if path else "fail", f"{path} ({how})" if path else "missing",
                               "" if path else "source <CANN>/set_env.sh (puts the toolkit's lib64 on LD_LIBRARY_PATH)"))
    driver = os.path.exists(ASCEND_DRIVER_LIB)
    lines.append(Check("Ascend driver", "ok" if driver else "fail", ASCEND_DRIVER_LIB if driver else "not found",
                       "" if driver else "install the Ascend NPU driver and firmware"))
    return lines

