"""Device-specific code paths exercised on CPU (see the README's Device support table)."""
import types

import numpy as np
import mindspore as ms

from ats_ms.distill.cell import make_layout
from ats_ms.engine.callbacks import ProgressLogger
from ats_ms.engine.run_state import GroupState, Member, MemberState


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, to=None):
        self.lines.append(message)


def _context(step, outputs):
    args = types.SimpleNamespace(cur_step_num=step, net_outputs=tuple(ms.Tensor(np.float32(v)) for v in outputs))
    return types.SimpleNamespace(original_args=lambda: args)


def test_sink_mode_chunks_advance_the_step_count_by_the_chunk():
    """In dataset sink mode (GPU/Ascend) Model calls step-end once per sunk chunk: the logger must count
    the chunk's steps and images, and weigh the chunk's last loss and accuracy by its length."""
    layout = make_layout([("loss", "ce", "kd")])
    group = GroupState(steps_per_epoch=10, total_epochs=2, batch_size=32)
    member = Member(0, None, "run", state=MemberState(("loss", "ce", "kd")))
    log = _Log()
    logger = ProgressLogger(group, [member], layout, np.full(20, 0.1, np.float32), 50, log, on_diverged=None)
    logger.on_train_begin(_context(0, ()))
    logger.on_train_step_begin(None)
    logger.on_train_step_end(_context(10, (1.5, 1.0, 2.0, 24.0)))  # one chunk = the whole first epoch
    assert group.global_step == 10 and group.images_seen == 320 and group.epoch_step == 0
    record = member.state.train_record()
    assert record["train_top1"] == 100.0 * 24 / 32 and record["train_loss"] == 1.5
    assert len(log.lines) == 1 and log.lines[0].startswith("epoch 1/2 step 10/10 loss 1.5000 ce 1.0000 kd 2.0000")
