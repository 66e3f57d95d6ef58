"""ats_ms: knowledge distillation with Asymmetric Temperature Scaling, in MindSpore.

``configs/`` stays at the top of the repository; the build step copies it into the package as
``ats_ms/shipped_configs/`` so a wheel or ``pip install .`` carries every shipped config
(``ats_ms.config.shipped`` finds either).
"""
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))

# The libraries MindSpore 2.10's GPU plugin loads (CUDA 11.x runtime, cuDNN 8): from PyPI wheels, so a
# machine with only a newer system CUDA (or none but the driver) can train on GPU; ats_ms preloads them
# (ats_ms.process.gpu_libs) when runtime.device_target is GPU.  cuDNN 8 for CUDA 11 is the 8.9 series.
GPU_LIBS = [
    "nvidia-cuda-runtime-cu11==11.8.89",
    "nvidia-cublas-cu11==11.11.3.6",
    "nvidia-cudnn-cu11==8.9.6.50",
    "nvidia-curand-cu11==10.3.0.86",
    "nvidia-cusolver-cu11==11.4.1.48",
    "nvidia-cufft-cu11==10.9.0.58",
    "nvidia-cusparse-cu11==11.7.5.86",
    "nvidia-cuda-nvrtc-cu11==11.8.89",
]

# oneDNN 3.x headers (the library itself is the one MindSpore ships); this wheel also brings a oneDNN 3.2
# runtime that ats_ms does not load.  x86-64 only on PyPI: elsewhere the built-in convolution is used.
ONEDNN_HEADERS = 'onednn-devel-cpu-gomp==2023.2.0; platform_machine == "x86_64"'



def package_modules():
    """Every module of the source tree's package, as the doctor names them (ats_ms.doctor.package)."""
    names = []
    root = os.path.join(HERE, "ats_ms")
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "shipped_configs")]
        rel = os.path.relpath(folder, HERE).replace(os.sep, ".")
        names += [rel if f == "__init__.py" else f"{rel}.{f[:-3]}" for f in files if f.endswith(".py")]
    return sorted(names)


class BuildWithConfigs(build_py):
    """build_py that also copies configs/**/*.yaml into <build>/ats_ms/shipped_configs/ and writes the
    source tree's module list to <build>/ats_ms/_modules.txt, so that ``python -m ats_ms.doctor`` can tell a
    whole install from one that lost a module."""

    def run(self):
        super().run()
        with open(os.path.join(self.build_lib, "ats_ms", "_modules.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(package_modules()) + "\n")
        source = os.path.join(HERE, "configs")
        if not os.path.isdir(source):
            return
        target = os.path.join(self.build_lib, "ats_ms", "shipped_configs")
        if os.path.isdir(target):
            shutil.rmtree(target)
        for folder, _, files in os.walk(source):
            for fname in files:
                if fname.endswith(".yaml"):
                    rel = os.path.relpath(os.path.join(folder, fname), source)
                    os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
                    shutil.copyfile(os.path.join(folder, fname), os.path.join(target, rel))


setup(
    name="ats_ms",
    version="0.4.0",
    description="Knowledge distillation with Asymmetric Temperature Scaling (ATS) for MindSpore",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read()
    if os.path.exists(os.path.join(HERE, "README.md")) else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["ats_ms", "ats_ms.*"]),
    package_data={"ats_ms.cpu_conv": ["*.cpp"]},  # compiled on first use (ats_ms.cpu_conv.build)
    cmdclass={"build_py": BuildWithConfigs},
    python_requires=">=3.9,<3.13",  # MindSpore 2.10's own range
    install_requires=[
        "mindspore>=2.10,<2.11",
        "numpy<2",  # MindSpore 2.10's first eager op fails with numpy 2.x
        "pyyaml",
        "pillow",
    ],
    extras_require={
        "test": ["pytest", "pytest-xdist", "scikit-learn", "matplotlib", "tensorboardX", "mkdocs>=1.6", "mkdocstrings[python]", "mindcv==0.3.0",
                 "scipy", "onnxruntime", ONEDNN_HEADERS],
        "cpu": [ONEDNN_HEADERS],   # headers for the oneDNN CPU convolution (runtime.cpu_conv), built on first use
        "demo": ["scikit-learn"],  # the built-in digits dataset ships inside scikit-learn
        "plot": ["matplotlib"],    # ats_ms.report heat maps and curves, the quick start's comparison.png
        "tensorboard": ["tensorboardX"],  # logging.tensorboard: true
        "torch": ["torch"],        # convert (reading PyTorch checkpoints), export --format torch, the PyTorch twin
        "gpu": GPU_LIBS,
        "docs": ["mkdocs>=1.6", "mkdocstrings[python]"],  # mkdocs build --strict: the site, API reference included
        "mindcv": ["mindcv==0.3.0"],  # mindcv:<name> networks (the ImageNet KD benchmark pairs, pretrained weights)
        "mat": ["scipy"],          # MATLAB lists of Stanford Dogs and the ImageNet devkit's meta.mat
        "onnx": ["onnxruntime"],   # export --format onnx runs the written file to check its logits
    },
)
