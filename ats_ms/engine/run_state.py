"""What a run (or a group of runs sharing a teacher) knows while it trains.

``GroupState`` is the position in the schedule, shared by every student of a group (they step together).
``MemberState`` is one student's own record: best accuracy, last evaluation, the current epoch's
training loss and accuracy, and whether it is still training.  Both are saved inside the student's
``train_state.ckpt`` (as metadata) so a resumed run continues every number, mid-epoch included.
"""
import json
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np


@dataclass
class GroupState:
    steps_per_epoch: int
    total_epochs: int
    batch_size: int            # global batch (all ranks)
    global_step: int = 0
    images_seen: int = 0
    train_seconds: float = 0.0
    interrupted_by: Optional[int] = None   # the signal that asked the run to stop

    @property
    def total_steps(self):
        return self.total_epochs * self.steps_per_epoch

    @property
    def epochs_done(self):
        return self.global_step // self.steps_per_epoch

    @property
    def epoch_step(self):
        return self.global_step % self.steps_per_epoch

    @property
    def finished(self):
        return self.global_step >= self.total_steps

    def position(self):
        """Where the run stands, in the 1-based epoch numbers the log uses: 'during epoch 2 of 10 (step 25 of its
        100; 125 of 1,000 in all)' or, between epochs, 'after epoch 1 of 10 (step 100 of 1,000)'."""
        if self.epoch_step:
            return (f"during epoch {self.epochs_done + 1} of {self.total_epochs} (step {self.epoch_step} of its "
                    f"{self.steps_per_epoch}; {self.global_step:,} of {self.total_steps:,} in all)")
        return f"after epoch {self.epochs_done} of {self.total_epochs} (step {self.global_step:,} of {self.total_steps:,})"


@dataclass
class MemberState:
    term_names: tuple
    best_top1: float = -1.0
    best_epoch: int = 0
    best_step: int = 0
    last_eval: dict = field(default_factory=dict)
    epoch_sums: np.ndarray = None          # sum over the epoch's steps of each loss term
    epoch_correct: float = 0.0             # training images classified right this epoch
    epoch_images: int = 0
    epoch_steps: int = 0
    diverged: Optional[str] = None

    def __post_init__(self):
        if self.epoch_sums is None:
            self.epoch_sums = np.zeros(len(self.term_names))

    @property
    def active(self):
        return self.diverged is None

    def train_record(self):
        """The finished epoch's training loss terms and accuracy (training mode, augmented batches)."""
        if not self.epoch_images:
            return {}
        record = {"train_top1": 100.0 * self.epoch_correct / self.epoch_images}
        per_step = self.epoch_sums / max(1, self.epoch_steps)
        record.update({f"train_{n}": float(v) for n, v in zip(self.term_names, per_step)})
        return record

    def add_step(self, terms, correct, images, steps=1):
        self.epoch_sums += np.asarray(terms) * steps
        self.epoch_correct += float(correct) * steps
        self.epoch_images += images * steps
        self.epoch_steps += steps

    def reset_epoch(self):
        self.epoch_sums = np.zeros(len(self.term_names))
        self.epoch_correct, self.epoch_images, self.epoch_steps = 0.0, 0, 0

    def to_meta(self):
        # numbers also go into JSON: MindSpore stores float metadata as float32, the JSON keeps them exact
        return {"best_top1": float(self.best_top1), "best_epoch": int(self.best_epoch), "best_step": int(self.best_step),
                "best_json": json.dumps({"top1": self.best_top1, "epoch": self.best_epoch, "step": self.best_step}),
                "last_eval_json": json.dumps(self.last_eval),
                "epoch_train_json": json.dumps({"sums": [float(v) for v in self.epoch_sums],
                                                "correct": self.epoch_correct, "images": self.epoch_images,
                                                "steps": self.epoch_steps})}

    def load_meta(self, meta):
        best = json.loads(meta.get("best_json") or "{}")
        self.best_top1 = float(best.get("top1", meta.get("best_top1", -1)))
        self.best_epoch = int(best.get("epoch", meta.get("best_epoch", 0)))
        self.best_step = int(best.get("step", meta.get("best_step", 0)))
        self.last_eval = json.loads(meta.get("last_eval_json") or "{}")
        epoch = json.loads(meta.get("epoch_train_json") or "{}")
        if epoch and len(epoch.get("sums", [])) == len(self.term_names):
            self.epoch_sums = np.asarray(epoch["sums"], np.float64)
            self.epoch_correct, self.epoch_images = float(epoch["correct"]), int(epoch["images"])
            self.epoch_steps = int(epoch["steps"])


@dataclass
class Member:
    """One student of the run: its config, folder, network, and record."""
    index: int
    cfg: object
    run_dir: str
    plan: object = None
    state_meta: dict = None                # the saved state's metadata when resuming
    student: object = None
    state: MemberState = None
    evaluator: object = None
    lock: object = None
    scalars: object = None                 # TensorBoard writer or None
    summary: Optional[dict] = None
    label: str = ""
    notes: List[str] = field(default_factory=list)
