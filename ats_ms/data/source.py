"""What every dataset source hands to the pipeline builder."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple


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
