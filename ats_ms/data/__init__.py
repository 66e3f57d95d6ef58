"""Datasets: CIFAR-10/100 (binary or python release), ImageNet, Tiny-ImageNet, CUB-200-2011, Stanford Dogs,
Google Speech Commands, image folders and scikit-learn's digits, each read from its release layout
(``data.name``; ``SOURCES`` in ``factory.py``)."""
from ats_ms.data.factory import DatasetInfo, create_dataset, get_source, input_size

__all__ = ["create_dataset", "get_source", "input_size", "DatasetInfo"]
