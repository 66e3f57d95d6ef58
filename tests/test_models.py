"""ats_ms.models: parameter counts against the published ones, every listed network building, forward and backward
in graph mode, any input size, stable parameter names, the reference initialisation, and one table of names."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import nn

from ats_ms.models import count_params, create_model, list_models

# Trainable parameters with 100 classes, as RepDistiller's and the ATS authors' PyTorch modules count them.
PUBLISHED_PARAMS = {
    "resnet8": 83_892, "resnet14": 181_108, "resnet20": 278_324, "resnet32": 472_756,
    "resnet44": 667_188, "resnet56": 861_620, "resnet110": 1_736_564, "resnet8x4": 1_233_540,
    "resnet32x4": 7_433_860, "mobilenetv2": 812_836, "shufflev1": 949_258, "shufflev2": 1_355_528,
    "resnet50": 23_705_252, "wrn_16_1": 180_916, "wrn_16_2": 703_284, "wrn_28_1": 375_348,
    "wrn_28_2": 1_479_220, "wrn_28_4": 5_872_180, "wrn_28_8": 23_401_012, "wrn_40_1": 569_780,
    "wrn_40_2": 2_255_156, "vgg8": 3_965_028, "vgg11": 9_277_284, "vgg13": 9_462_180,
    "vgg16": 14_774_436, "vgg19": 20_086_692,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_parameter_count_matches_reference(name):
    assert count_params(create_model(name, 100)) == PUBLISHED_PARAMS[name]


def test_every_listed_model_builds():
    for name in list_models():
        # resnet1202_a (4 s to build) is counted against its published size in test_published_teachers, and
        # the networks of PUBLISHED_PARAMS are built by test_parameter_count_matches_reference
        if name == "resnet1202_a" or name in PUBLISHED_PARAMS:
            continue
        net = create_model(name, 10)
        assert count_params(net) > 0, name


def test_patterns_and_errors():
    assert count_params(create_model("wrn_22_3", 10)) > 0
    assert count_params(create_model("resnext29_2x4d", 10)) > 0
    assert count_params(create_model("mobile_half", 100)) == PUBLISHED_PARAMS["mobilenetv2"]
    with pytest.raises(ValueError, match="Did you mean.*resnet20"):
        create_model("resnet2O")
    with pytest.raises(ValueError, match="6n\\+4"):
        create_model("wrn_17_1")


def test_parameter_names_are_stable():
    """Checkpoints and the PyTorch importer depend on these exact names."""
    names = [p.name for p in create_model("resnet8", 10).get_parameters()]
    assert names[:5] == ["conv1.weight", "bn1.moving_mean", "bn1.moving_variance", "bn1.gamma", "bn1.beta"]
    assert "layer2.0.downsample.0.weight" in names and "layer2.0.downsample.1.gamma" in names
    assert names[-2:] == ["fc.weight", "fc.bias"]
    wrn_names = {p.name for p in create_model("wrn_16_1", 10).get_parameters()}
    assert {"block2.layer.0.convShortcut.weight", "block1.layer.1.bn2.moving_variance", "bn1.gamma",
            "fc.weight"} <= wrn_names
    vgg_names = {p.name for p in create_model("vgg8", 10).get_parameters()}
    assert {"block0.0.weight", "block0.0.bias", "block0.1.gamma", "block4.0.weight", "classifier.weight"} <= vgg_names


def test_initialisation_follows_reference():
    net = create_model("resnet20", 10)
    w = net.layer3[0].conv2.weight.asnumpy()  # 64 -> 64, 3x3: fan_out = 64 * 9
    assert abs(w.std() - np.sqrt(2.0 / (64 * 9))) < 0.01
    assert np.all(net.bn1.gamma.asnumpy() == 1) and np.all(net.bn1.beta.asnumpy() == 0)
    assert abs(net.bn1.momentum - 0.1) < 1e-9  # MindSpore stores 1 - momentum: PyTorch's 0.1


@pytest.mark.parametrize("name", ["resnet8", "wrn_16_1", "vgg8", "mobilenetv2", "shufflev1", "shufflev2",
                                  "resnext29_2x4d"])
def test_forward_backward_in_graph_mode(name):
    net = create_model(name, 10)
    net.set_train(True)
    x = ms.Tensor(np.random.RandomState(0).randn(2, 3, 32, 32).astype(np.float32))
    y = ms.Tensor(np.array([1, 2], np.int32))
    step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()),
                               nn.SGD(net.trainable_params(), 0.01))
    before = [p.asnumpy().copy() for p in net.trainable_params()]
    loss = step(x, y)
    assert np.isfinite(loss.asnumpy())
    changed = sum(not np.array_equal(b, p.asnumpy()) for b, p in zip(before, net.trainable_params()))
    assert changed == len(before)
    net.set_train(False)
    assert net(x).shape == (2, 10)


@pytest.mark.parametrize("size", [8, 64])
def test_any_input_size(size):
    for name in ("resnet8", "vgg8", "wrn_16_1"):
        net = create_model(name, 10)
        net.set_train(False)
        x = ms.Tensor(np.zeros((1, 3, size, size), np.float32))
        assert net(x).shape == (1, 10)


def test_the_config_checks_and_the_zoo_read_one_table_of_names():
    """ats_ms.common.model_names is the only list: the zoo registers exactly its fixed names, and a pattern size the
    config accepts is one the zoo builds."""
    from ats_ms.common import model_names
    from ats_ms.config.arch_names import check_arch
    assert list_models() == sorted(model_names.FIXED)
    for name in ("wrn_22_3", "resnext29_3x5d", "resnet26_a", "mobile_half"):
        check_arch(name, "model.arch")
        assert count_params(create_model(name, 10)) > 0
    assert not model_names.is_known("wrn_21_2") and not model_names.is_known("resnet27_a")
