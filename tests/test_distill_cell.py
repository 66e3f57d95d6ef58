import numpy as np

import mindspore as ms
import mindspore.dataset as ds
from mindspore import nn

from ats_ms.distill import DistillNet, TrainStep
from ats_ms.losses import ATSLoss
from ats_ms.models import create_model
from conftest import learnable_problem


class _Record(ms.train.Callback):
    def __init__(self):
        self.outputs = []

    def on_train_step_end(self, run_context):
        self.outputs.append([float(t.asnumpy()) for t in run_context.original_args().net_outputs])


def _snapshot(net):
    return {id(p): p.asnumpy().copy() for p in net.get_parameters()}


def test_teacher_frozen_student_learns_under_model_train():
    ms.set_seed(0)
    x, y = learnable_problem()
    teacher, student = create_model("resnet8", 10), create_model("resnet8", 10)
    teacher_before, student_before = _snapshot(teacher), _snapshot(student)
    net = DistillNet(student, teacher, ATSLoss(4.0, 2.0))
    step = TrainStep(net, nn.Momentum(student.trainable_params(), 0.05, 0.9))
    data = ds.NumpySlicesDataset({"image": x, "label": y}, shuffle=True).batch(32, drop_remainder=True)
    record = _Record()
    ms.train.Model(step).train(6, data, callbacks=[record], dataset_sink_mode=False)

    assert teacher.bn1.training, "Model.train switched the teacher's cells to training mode..."
    teacher_after = _snapshot(teacher)
    # ...yet every teacher parameter and moving statistic is bit-identical.
    assert all(np.array_equal(teacher_before[k], teacher_after[k]) for k in teacher_before)
    student_after = _snapshot(student)
    changed = [k for k in student_before if not np.array_equal(student_before[k], student_after[k])]
    assert len(changed) == len(student_before)  # weights and BN statistics all moved
    assert not any(p.requires_grad for p in teacher.get_parameters())
    assert {id(p) for p in step.weights} == {id(p) for p in student.trainable_params()}

    losses = np.array(record.outputs)
    assert losses.shape[1] == 3 and net.term_names == ("loss", "ce", "kd")
    np.testing.assert_allclose(losses[:, 0], 0.5 * losses[:, 1] + 0.5 * losses[:, 2], rtol=1e-5)
    first, last = losses[:8, 0].mean(), losses[-8:, 0].mean()
    assert last < 0.8 * first, (first, last)
