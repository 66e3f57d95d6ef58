"""Datasets: CIFAR-10/100 (binary or python release), image folders, scikit-learn digits."""
from ats_ms.data.factory import DatasetInfo, create_dataset, get_source, input_size

__all__ = ["create_dataset", "get_source", "input_size", "DatasetInfo"]
