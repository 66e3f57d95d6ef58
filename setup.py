"""ats_ms: knowledge distillation with Asymmetric Temperature Scaling, in MindSpore."""
from setuptools import find_packages, setup

setup(
    name="ats_ms",
    version="0.1.0",
    description="Knowledge distillation with Asymmetric Temperature Scaling (ATS) for MindSpore",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ats_ms", "ats_ms.*"]),
    python_requires=">=3.9",
    install_requires=[
        "mindspore>=2.10,<2.11",
        "numpy<2",  # MindSpore 2.10's first eager op fails with numpy 2.x
        "pyyaml",
        "pillow",
    ],
    extras_require={
        "test": ["pytest", "scikit-learn", "matplotlib"],
        "demo": ["scikit-learn"],  # the built-in digits dataset ships inside scikit-learn
        "plot": ["matplotlib"],    # ats_ms.report heat maps
        "torch": ["torch"],        # ats_ms.convert (reading PyTorch checkpoints) only
    },
)
