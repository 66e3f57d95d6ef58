"""Published checkpoint families ats_ms recognises, and what their training used.

A converted network must see the inputs it was trained on, so the converter records the normalisation a
family was trained with beside the weights (``normalization`` in the checkpoint's metadata); eval, analyze
and teacher loading then feed the network accordingly (``ats_ms.models.normalization``).

Recognised here:

- torchvision's ImageNet ResNets (18/34/50/101/152) and MobileNet-V2, and the MobileNet-V1 of the KD benchmark
  code (mdistiller / RepDistiller, ``model.<i>`` + ``fc``), built through mindcv (``mindcv:resnet50`` ...) with
  torchvision's stem pooling; trained with ImageNet's mean and std;
- the original CIFAR-10 ResNets of He et al. (2016) with option-A shortcuts, as published by the BSD-licensed
  repository akamaster/pytorch_resnet_cifar10: files ``resnet<depth>-<first 8 hex digits of the SHA-256>.th``
  holding ``{"state_dict": ..., "best_prec1": float}`` whose keys start with ``module.`` (saved from
  ``DataParallel``), a ``linear`` classifier and no shortcut weights.  Trained on inputs scaled to [0, 1] and
  normalised with ImageNet's mean and std (that repository's training script);
- the CIFAR-10 and CIFAR-100 ResNet-20/32/44/56 of the BSD-licensed repository chenyaofo/pytorch-cifar-models,
  by their release names ``cifar<10|100>_resnet<depth>-<first 8 hex digits of the SHA-256>.pt``: a plain state
  dict (``conv1``, ``bn1``, ``layer1..3``, ``fc``) with projection shortcuts (``downsample``), the layout of
  ats_ms's ``resnet<depth>``.  Trained on inputs normalised with the dataset's own mean and std as that
  repository's training configs write them (CIFAR-10: std 0.2023, 0.1994, 0.2010).
"""
import hashlib
import os
import re

IMAGENET_MEAN_STD = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

# Published test errors on the original CIFAR-10 (the repository's README) of the files it lists.
HE2016_FILES = {
    "resnet20-12fca82f.th": 8.27, "resnet32-d509ac18.th": 7.37, "resnet44-014dd654.th": 6.90,
    "resnet56-4bfd9763.th": 6.61, "resnet110-1d1ed7c2.th": 6.32, "resnet1202-f3b1deed.th": 6.18,
}
SOURCE_HE2016 = "akamaster/pytorch_resnet_cifar10 (BSD 2-clause), He et al. 2016 CIFAR-10 ResNet, option-A shortcuts"

# chenyaofo/pytorch-cifar-models: release file -> published top-1 % on the dataset's test set (its README), and the
# normalisation of its training configs (conf/cifar10.conf, conf/cifar100.conf of chenyaofo/image-classification-codebase).
CHENYAOFO_FILES = {
    "cifar10_resnet20-4118986f.pt": 92.60, "cifar10_resnet32-ef93fc4d.pt": 93.53,
    "cifar10_resnet44-2a3cabcb.pt": 94.01, "cifar10_resnet56-187c023a.pt": 94.37,
    "cifar100_resnet20-23dac2f1.pt": 68.83, "cifar100_resnet32-84213ce6.pt": 70.16,
    "cifar100_resnet44-ffe32858.pt": 71.63, "cifar100_resnet56-f2eff4c8.pt": 72.63,
}
CHENYAOFO_MEAN_STD = {"cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
                      "cifar100": ((0.5070, 0.4865, 0.4409), (0.2673, 0.2564, 0.2761))}
SOURCE_CHENYAOFO = "chenyaofo/pytorch-cifar-models (BSD 3-clause), CIFAR ResNet with projection shortcuts"
CHENYAOFO_NAME = re.compile(r"(cifar10|cifar100)_resnet(\d+)-([0-9a-f]{8})\.pt")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _name_check(path, prefix, published_note):
    """Notes on whether the file is byte for byte the one its release name (with a SHA-256 prefix) promises."""
    digest = sha256(path)
    if not digest.startswith(prefix):
        return [f"the file name says SHA-256 {prefix}..., the content has {digest[:8]}...: it is not the published "
                "file (converted as it is)"]
    return [published_note + "; the file is byte for byte the published one"] if published_note else []


def _projection_resnet_depth(names):
    """6n + 2 of a CIFAR ResNet with projection shortcuts (``downsample``) and an ``fc`` classifier, or None."""
    if "fc.weight" not in names or not any("downsample" in n for n in names):
        return None
    if any(not n.startswith(("conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "fc.")) for n in names):
        return None
    blocks = {int(m[1]) for m in (re.match(r"layer1\.(\d+)\.conv1\.weight$", n) for n in names) if m}
    return 6 * (max(blocks) + 1) + 2 if blocks else None


def _chenyaofo(path, state_names):
    """What a chenyaofo/pytorch-cifar-models ResNet release file holds, or None."""
    match = CHENYAOFO_NAME.fullmatch(os.path.basename(path))
    depth = _projection_resnet_depth(state_names)
    if match is None or depth is None:
        return None
    dataset = match[1]
    mean, std = CHENYAOFO_MEAN_STD[dataset]
    notes = []
    if int(match[2]) != depth:
        notes.append(f"the file name says resnet{match[2]}, its blocks make resnet{depth}")
    published_top1 = CHENYAOFO_FILES.get(os.path.basename(path))
    data_name = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}[dataset]
    notes += _name_check(path, match[3], f"published top-1 {published_top1:.2f} % on the {data_name} test set"
                         if published_top1 else "")
    return {"arch": f"resnet{depth}", "options": {}, "mean": list(mean), "std": list(std), "trained_on": dataset,
            "source": SOURCE_CHENYAOFO, "notes": notes}


def _he2016_depth(names):
    """6n + 2 from the blocks of a state dict's first stage, or None if it is not that family."""
    if not any(n == "linear.weight" for n in names) or any("shortcut" in n or "downsample" in n for n in names):
        return None
    blocks = {int(m[1]) for m in (re.match(r"layer1\.(\d+)\.conv1\.weight$", n) for n in names) if m}
    if not blocks or any(not n.startswith(("conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "linear.")) for n in names):
        return None
    return 6 * (max(blocks) + 1) + 2


TORCHVISION_RESNETS = {((2, 2, 2, 2), False): 18, ((3, 4, 6, 3), False): 34, ((3, 4, 6, 3), True): 50,
                       ((3, 4, 23, 3), True): 101, ((3, 8, 36, 3), True): 152}


def _imagenet_family(names):
    """(mindcv arch, build options) of a torchvision / KD-benchmark ImageNet network, or None."""
    name_set = set(names)
    if {"conv1.weight", "fc.weight", "layer4.0.conv1.weight"} <= name_set:
        blocks = tuple(len({n.split(".")[1] for n in names if n.startswith(f"layer{k}.")}) for k in (1, 2, 3, 4))
        depth = TORCHVISION_RESNETS.get((blocks, "layer1.0.conv3.weight" in name_set))
        return (f"mindcv:resnet{depth}", {"pool_padding": "symmetric"}) if depth else None
    if {"features.0.0.weight", "features.1.conv.0.0.weight", "classifier.1.weight"} <= name_set:
        return "mindcv:mobilenet_v2_100", {}
    if {"model.0.0.weight", "model.1.0.weight", "model.1.3.weight", "fc.weight"} <= name_set:
        return "mindcv:mobilenet_v1_100", {}
    return None


def identify(path, container_keys, state_names):
    """What is known about a PyTorch checkpoint, from its wrapper, its parameter names and its file:
    a dict with arch, normalization (mean, std), source and notes; or None for an unknown family.

    ``container_keys``: the keys of the loaded top-level object; ``state_names``: the state dict's keys with
    any ``module.`` prefix removed."""
    imagenet = _imagenet_family(state_names)
    if imagenet is not None:
        arch, options = imagenet
        return {"arch": arch, "options": options, "mean": list(IMAGENET_MEAN_STD[0]), "std": list(IMAGENET_MEAN_STD[1]),
                "trained_on": "imagenet", "source": "torchvision / KD-benchmark ImageNet layout", "notes": []}
    chenyaofo = _chenyaofo(path, state_names)
    if chenyaofo is not None:
        return chenyaofo
    depth = _he2016_depth(state_names)
    if depth is None or "state_dict" not in container_keys:
        return None
    found = {"arch": f"resnet{depth}_a", "options": {}, "mean": list(IMAGENET_MEAN_STD[0]),
             "std": list(IMAGENET_MEAN_STD[1]),
             "trained_on": "cifar10", "source": SOURCE_HE2016, "notes": []}
    name = os.path.basename(path)
    match = re.fullmatch(r"resnet(\d+)-([0-9a-f]{8})\.th", name)
    if match:
        published_error = HE2016_FILES.get(name)
        found["notes"] += _name_check(path, match[2], f"published test error {published_error} % on the original "
                                                      "CIFAR-10" if published_error else "")
    return found
