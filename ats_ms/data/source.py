"""What every dataset source hands to the pipeline builder, and the check every source makes of its root."""
import os
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from ats_ms.common.errors import DatasetError


def require_folder(path, what, expected):
    """``path`` must be an existing folder; otherwise say what it is instead (missing, or a file) and what was
    expected in it (``expected`` completes the sentence "Expected ...")."""
    if os.path.isdir(path):
        return
    if os.path.exists(path):
        raise DatasetError(f"{what} '{path}' is a file, not a folder. Expected {expected} Set data.root to that folder.")
    raise DatasetError(f"{what} '{path}' does not exist. Expected {expected} Fix data.root.")


@dataclass
class Source:
    """One split of one dataset, before sampling, augmentation and batching.

    ``build(sampler, num_parallel_workers)`` returns a mappable ``mindspore.dataset`` with columns
    ``image`` (HWC uint8, RGB) and ``label`` (int32).
    """
    name: str
    split: str
    num_samples: int
    num_classes: int
    class_names: List[str]
    image_size: int
    build: Callable
    mean_std: Tuple[Tuple[float, ...], Tuple[float, ...]]
    hflip: bool = True
    needs_resize: bool = False
    location: Optional[str] = None
    encoded: bool = False        # ``image`` holds encoded file bytes: the pipeline decodes them first
    pipeline: str = "cifar"      # cifar: pad-and-crop + flip; imagenet: RandomResizedCrop + flip / Resize + CenterCrop;
    #                              speech: waveform -> log-mel spectrogram
    channels: int = 3            # input channels of the network (1 for spectrograms)
    # The label of every sample in file order, read without decoding images (class-balanced subsets);
    # None where that would mean opening every file.
    labels: Optional[Callable] = None
