"""Dataset facts: normalisation constants (the per-channel statistics of each
training split, as RepDistiller and the ATS code use them) and the official CIFAR releases."""

MEAN_STD = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
    # ImageNet statistics: the usual choice for natural-image folders (Tiny-ImageNet, CUB, Dogs).
    "image_folder": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}

OFFICIAL_SITE = "https://www.cs.toronto.edu/~kriz/"

# (dataset, format) -> directory name inside the data root, archive file name, archive MD5
RELEASES = {
    ("cifar10", "binary"): ("cifar-10-batches-bin", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),
    ("cifar10", "python"): ("cifar-10-batches-py", "cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),
    ("cifar100", "binary"): ("cifar-100-binary", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"),
    ("cifar100", "python"): ("cifar-100-python", "cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),
}

# Files each layout must hold, per split, with their exact record counts.
BINARY_FILES = {
    "cifar10": {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]},
    "cifar100": {"train": ["train.bin"], "test": ["test.bin"]},
}
PYTHON_FILES = {
    "cifar10": {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]},
    "cifar100": {"train": ["train"], "test": ["test"]},
}
RECORDS_PER_FILE = {("cifar10", "train"): 10000, ("cifar10", "test"): 10000,
                    ("cifar100", "train"): 50000, ("cifar100", "test"): 10000}
BINARY_RECORD_BYTES = {"cifar10": 1 + 3072, "cifar100": 2 + 3072}
NUM_CLASSES = {"cifar10": 10, "cifar100": 100}
