"""CUDA 11 libraries for MindSpore's GPU plugin, from PyPI wheels, loaded before MindSpore looks for them.

MindSpore 2.10's GPU plugin (``mindspore/lib/plugin/libmindspore_gpu.so.11.x``) links against the CUDA 11
runtime, cuBLAS 11, cuDNN 8, cuRAND, cuFFT, cuSPARSE and NVRTC 11.2 (and opens cuSOLVER 11 at run time);
most GPU machines today carry CUDA 12 or newer, and the driver alone is enough if these come from pip
(``pip install -e ".[gpu]"``: the ``nvidia-*-cu11`` wheels, cuDNN 8.9 for CUDA 11).

MindSpore loads its device plugins when ``mindspore`` is imported, and only tries the GPU plugin when
``CUDA_HOME`` is set; with two plugin builds (CUDA 11.1 and 11.6) it picks one by running
``$CUDA_HOME/bin/nvcc --version``.  PyPI has no ``nvcc`` for CUDA 11 (``nvidia-cuda-nvcc-cu11`` ships only
``ptxas``), and MindSpore does not compile CUDA code for ats_ms's networks.  So, when the device target is
GPU and before MindSpore is imported, ``prepare()``:

- unless the user set ``CUDA_HOME``, points it at a small folder holding a stand-in ``bin/nvcc`` that only
  answers ``--version`` with the version of the CUDA runtime wheel (so MindSpore picks its CUDA 11.6
  plugin for the 11.8 runtime);
- loads every library of the wheels with ``RTLD_GLOBAL``, dependencies first.  The dynamic loader then
  resolves the plugin's needs by soname from these already-loaded copies: no ``LD_LIBRARY_PATH`` editing.

The driver's ``libcuda.so.1`` is never in a wheel: it comes with the NVIDIA driver.
"""
import ctypes
import os
import sys

# wheel subfolder of the ``nvidia`` namespace package -> the sonames MindSpore's GPU plugin needs from it,
# in load order (a library's dependencies before it)
WHEEL_LIBS = [
    ("cuda_runtime", ["libcudart.so.11.0"]),
    ("cublas", ["libcublasLt.so.11", "libcublas.so.11"]),
    ("curand", ["libcurand.so.10"]),
    ("cufft", ["libcufft.so.10"]),
    ("cusparse", ["libcusparse.so.11"]),
    ("cusolver", ["libcusolver.so.11"]),
    ("cuda_nvrtc", ["libnvrtc.so.11.2"]),
    ("cudnn", ["libcudnn.so.8", "libcudnn_ops_infer.so.8", "libcudnn_ops_train.so.8", "libcudnn_cnn_infer.so.8",
               "libcudnn_cnn_train.so.8", "libcudnn_adv_infer.so.8", "libcudnn_adv_train.so.8"]),
]
DRIVER_LIB = "libcuda.so.1"
NVCC_STAND_IN = """#!/bin/sh
# ats_ms stand-in for nvcc (no CUDA 11 nvcc is installed): MindSpore only asks it for the CUDA version, to
# choose between its CUDA 11.1 and 11.6 GPU plugins. It reports the CUDA runtime wheel ats_ms loads.
echo "nvcc: NVIDIA (R) Cuda compiler driver (ats_ms stand-in, version only)"
echo "Cuda compilation tools, release {short}, V{full}"
"""


def nvidia_root():
    """The folder of the ``nvidia`` namespace package the ``nvidia-*-cu11`` wheels install into, or None."""
    for entry in sys.path:
        candidate = os.path.join(entry or os.getcwd(), "nvidia")
        if os.path.isdir(candidate) and any(os.path.isdir(os.path.join(candidate, w, "lib")) for w, _ in WHEEL_LIBS):
            return candidate
    return None


def wheel_library_paths(root=None):
    """soname -> file in the wheels (only those present)."""
    root = root or nvidia_root()
    found = {}
    if not root:
        return found
    for wheel, sonames in WHEEL_LIBS:
        for soname in sonames:
            path = os.path.join(root, wheel, "lib", soname)
            if os.path.exists(path):
                found[soname] = path
    return found


def runtime_version():
    """The installed nvidia-cuda-runtime-cu11 wheel's version (e.g. 11.8.89), or None."""
    import importlib.metadata  # pylint: disable=import-outside-toplevel
    try:
        return importlib.metadata.version("nvidia-cuda-runtime-cu11")
    except importlib.metadata.PackageNotFoundError:
        return None


def nvcc_home():
    """A CUDA_HOME whose bin/nvcc reports the runtime wheel's version (created on first use), or None
    when no runtime wheel is installed."""
    full = runtime_version()
    if not full or not wheel_library_paths():
        return None
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    home = os.path.join(cache, "ats_ms", f"cuda-{full}")
    nvcc = os.path.join(home, "bin", "nvcc")
    text = NVCC_STAND_IN.format(short=".".join(full.split(".")[:2]), full=full)
    if not os.path.isfile(nvcc) or open(nvcc, encoding="utf-8").read() != text:
        os.makedirs(os.path.dirname(nvcc), exist_ok=True)
        with open(nvcc + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(nvcc + ".tmp", 0o755)
        os.replace(nvcc + ".tmp", nvcc)
    return home


def prepare_for(device_target):
    """What every command calls after reading its config and before importing MindSpore."""
    if device_target == "GPU":
        prepare()


def prepare(log=None):
    """Make the wheels' CUDA libraries available to MindSpore's GPU plugin.  Returns the sonames loaded.
    Call before ``import mindspore``; afterwards it is too late (a warning says so)."""
    say = log or (lambda message: print(message, file=sys.stderr))
    if "mindspore" in sys.modules:
        say("ats_ms: MindSpore was imported before the GPU libraries could be prepared; if its GPU plugin did not "
            "load, start a fresh process (ats_ms's commands do this themselves).")
        return []
    home = nvcc_home()
    if home and not os.environ.get("CUDA_HOME"):
        os.environ["CUDA_HOME"] = home
    loaded = []
    for soname, path in wheel_library_paths().items():
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            loaded.append(soname)
        except OSError as exc:
            say(f"ats_ms: could not load {path} ({exc})")
    return loaded
