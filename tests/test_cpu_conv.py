"""ats_ms's oneDNN convolution (``runtime.cpu_conv``) against MindSpore's own convolution.

The reference is MindSpore's built-in ``Conv2D`` and its gradients (independent of the library): every
convolution shape the CIFAR zoo uses, whole networks' logits and gradients through the custom op in GRAPH
mode, a short training run's loss curve, checkpoints across the two, and the fallback when the library
cannot be built.  On x86-64 the library must build here (the test extra installs its headers); PyPI has
no oneDNN headers for other machines, where these tests are skipped and ats_ms uses MindSpore's convolution.
"""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import mindspore as ms
from mindspore import nn, ops

from ats_ms import cpu_conv
from ats_ms.cpu_conv import build, library
from ats_ms.cpu_conv.geometry import of_conv
from ats_ms.common.errors import ConfigError
from ats_ms.models import create_model
from ats_ms.models.conv import Conv2d
from conftest import learnable_problem

# Every CIFAR network of the zoo (resnet1202_a repeats resnet110_a's layers), and the demo's "same" variants.
ZOO = [(a, {}) for a in ("resnet8", "resnet14", "resnet20", "resnet32x4", "resnet8x4", "resnet20_a", "resnet50",
                         "wrn_16_2", "wrn_40_2", "wrn_28_4", "vgg8", "vgg13", "mobilenetv2", "shufflev1", "shufflev2",
                         "resnext29_2x64d")]
ZOO += [("resnet8", {"padding": "same"}), ("vgg8", {"conv_bias": False})]


@pytest.fixture(scope="module")
def onednn():
    """The library, built (or found in the cache) and self-tested; restores the suite's choice afterwards."""
    before = cpu_conv.current().name
    if platform.machine() != "x86_64" and not os.environ.get("ATS_MS_ONEDNN_INCLUDE"):
        pytest.skip(f"no oneDNN headers on PyPI for {platform.machine()}: the built-in convolution is used")
    choice = cpu_conv.select("onednn")  # fails with the missing piece named (compiler, headers, cache)
    yield choice.library
    cpu_conv.select("auto" if before == "onednn" else "builtin")


def _zoo_shapes():
    """{(x shape without batch, w shape, Geometry)} over the zoo at 32x32 inputs, read by forward hooks."""
    ms.set_context(mode=ms.PYNATIVE_MODE)
    seen = set()
    try:
        cpu_conv.select("builtin")
        for arch, options in ZOO:
            net = create_model(arch, 10, **options)
            net.set_train(False)
            for _, cell in net.cells_and_names():
                if isinstance(cell, nn.Conv2d):
                    def hook(cell_, inputs, _seen=seen):
                        _seen.add((tuple(inputs[0].shape[1:]), tuple(cell_.weight.shape), of_conv(cell_)))
                    cell.register_forward_pre_hook(hook)
            net(ms.Tensor(np.zeros((1, 3, 32, 32), np.float32)))
    finally:
        ms.set_context(mode=ms.GRAPH_MODE)
    return sorted(seen, key=repr)


def _builtin(x, w, geometry):
    """MindSpore's Conv2D forward and gradients (PyNative): the reference."""
    top, bottom, left, right = geometry.pads(x.shape[2], x.shape[3], w.shape[2], w.shape[3])
    conv = ops.Conv2D(w.shape[0], w.shape[2:], pad_mode="pad", pad=(top, bottom, left, right),
                      stride=geometry.stride, group=geometry.groups)
    xt, wt = ms.Tensor(x), ms.Tensor(w)
    y = conv(xt, wt).asnumpy()
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    dx, dw = ms.grad(lambda a, b: (conv(a, b) * ms.Tensor(dy)).sum(), grad_position=(0, 1))(xt, wt)
    return y, dy, dx.asnumpy(), dw.asnumpy()


def _rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def test_every_zoo_convolution_equals_the_builtin_one(onednn):
    shapes = _zoo_shapes()
    assert len(shapes) > 100
    assert any(g.groups > 1 for _, _, g in shapes) and any(g.same for _, _, g in shapes)
    assert {g.stride for _, _, g in shapes} == {(1, 1), (2, 2)}
    ms.set_context(mode=ms.PYNATIVE_MODE)
    rng = np.random.default_rng(0)
    worst = []
    try:
        for x_shape, w_shape, geometry in shapes:
            x = rng.standard_normal((2,) + x_shape).astype(np.float32)
            w = rng.standard_normal(w_shape).astype(np.float32)
            y, dy, dx, dw = _builtin(x, w, geometry)
            got = (library.forward(onednn, x, w, geometry), library.backward_data(onednn, dy, w, x, geometry),
                   library.backward_weights(onednn, dy, x, w, geometry))
            worst.append((max(_rel(g, e) for g, e in zip(got, (y, dx, dw))), x_shape, w_shape, geometry))
    finally:
        ms.set_context(mode=ms.GRAPH_MODE)
    assert max(worst, key=lambda t: t[0])[0] < 1e-5, max(worst, key=lambda t: t[0])


class _Loss(nn.Cell):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.ce = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

    def construct(self, x, y):
        return self.ce(self.net(x), y)


def _logits_and_grads(arch, conv, weights=None, **options):
    cpu_conv.select(conv)
    ms.set_seed(0)
    net = create_model(arch, 10, **options)
    if weights is not None:
        ms.load_param_into_net(net, weights)
    net.set_train(False)  # fixed BatchNorm: batch statistics of 8 images would amplify rounding differences
    x = ms.Tensor(np.random.default_rng(0).standard_normal((8, 3, 32, 32)).astype(np.float32))
    y = ms.Tensor(np.arange(8, dtype=np.int32))
    logits = net(x).asnumpy()
    _, grads = ms.value_and_grad(_Loss(net), None, net.trainable_params())(x, y)
    uses = sum(bool(getattr(c, "uses_onednn", False)) for _, c in net.cells_and_names())
    return net, logits, [g.asnumpy() for g in grads], uses


@pytest.mark.parametrize("arch,options", [("resnet20", {}), ("resnet8", {"padding": "same"}), ("wrn_16_2", {}),
                                          ("vgg8", {})])  # grouped convolutions: every zoo shape above
def test_networks_through_the_custom_op_match_the_builtin_ones(onednn, arch, options):
    """GRAPH mode, logits and every parameter's gradient; parameter names are the same, so the built-in
    network's weights load into the oneDNN one unchanged."""
    ref, ref_logits, ref_grads, ref_uses = _logits_and_grads(arch, "builtin", **options)
    weights = {k: ms.Parameter(v.data.copy(), name=k) for k, v in ref.parameters_dict().items()}
    net, logits, grads, uses = _logits_and_grads(arch, "onednn", weights, **options)
    cpu_conv.select("onednn")
    assert ref_uses == 0 and uses == sum(isinstance(c, nn.Conv2d) for _, c in net.cells_and_names()) > 0
    assert sorted(ref.parameters_dict()) == sorted(net.parameters_dict())
    assert _rel(logits, ref_logits) < 1e-5
    # Each convolution agrees to 1e-5 (the test above); through a deep ReLU network a rounding difference
    # can flip a unit sitting at 0, which moves some gradients by ~1e-4 of their scale (MindSpore against
    # itself with the input scaled by 1 + 1e-7 does the same).  A wrong gradient would be off by O(1).
    flat, ref_flat = np.concatenate([g.ravel() for g in grads]), np.concatenate([g.ravel() for g in ref_grads])
    assert np.linalg.norm(flat - ref_flat) < 1e-3 * np.linalg.norm(ref_flat)
    assert np.abs(flat - ref_flat).max() < 1e-3 * np.abs(ref_flat).max()


def test_a_short_training_run_follows_the_builtin_loss_curve(onednn):
    from ats_ms.distill import FrozenTeacher, LossNet, TrainStep
    from ats_ms.losses import ATSLoss
    from ats_ms.config.schema import OptimConfig
    from ats_ms.engine.optim import create_optimizer
    x, y = learnable_problem(n=64, size=16)
    batches = [(ms.Tensor(x[i:i + 16]), ms.Tensor(y[i:i + 16])) for i in range(0, 64, 16)]
    curves = {}
    for conv in ("builtin", "onednn"):
        cpu_conv.select(conv)
        ms.set_seed(0)
        teacher, student = create_model("resnet14", 10), create_model("resnet8", 10)
        loss_net = LossNet([student], [ATSLoss(4.0, 2.0)], FrozenTeacher(teacher))
        step = TrainStep(loss_net, create_optimizer(OptimConfig(lr=0.05), student.trainable_params(),
                                                    np.full(100, 0.05, np.float32)))
        step.set_train(True)
        curves[conv] = [float(step(*batches[i % 4])[0].asnumpy()) for i in range(24)]
    cpu_conv.select("onednn")
    builtin, fast = np.array(curves["builtin"]), np.array(curves["onednn"])
    assert builtin[-4:].mean() < builtin[:4].mean() * 0.9  # it learns
    assert np.abs(fast - builtin).max() < 2e-3 * np.abs(builtin).max(), (builtin, fast)


def test_a_checkpoint_of_either_convolution_loads_into_the_other(onednn, tmp_path):
    cpu_conv.select("onednn")
    ms.set_seed(3)
    trained = create_model("resnet8", 10)
    ms.save_checkpoint(trained, str(tmp_path / "w.ckpt"))
    cpu_conv.select("builtin")
    other = create_model("resnet8", 10)
    ms.load_param_into_net(other, ms.load_checkpoint(str(tmp_path / "w.ckpt")), strict_load=True)
    cpu_conv.select("onednn")
    trained.set_train(False)
    other.set_train(False)
    x = ms.Tensor(np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32))
    assert _rel(trained(x).asnumpy(), other(x).asnumpy()) < 1e-5


def test_the_layer_keeps_float16_and_dilated_convolutions_on_mindspore(onednn):
    cpu_conv.select("onednn")
    dilated = Conv2d(4, 4, 3, pad_mode="pad", padding=2, dilation=2)
    plain = Conv2d(4, 4, 3, pad_mode="pad", padding=1)
    assert not dilated.uses_onednn and plain.uses_onednn
    x = ms.Tensor(np.ones((1, 4, 6, 6), np.float16))
    plain.to_float(ms.float16)
    assert plain(x).dtype == ms.float16


def _fresh_choice(monkeypatch, mode, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cpu_conv, "_library_cache", {})
    return cpu_conv.select(mode)


def test_without_a_compiler_auto_falls_back_and_onednn_says_what_is_missing(monkeypatch, tmp_path):
    before = cpu_conv.current()
    try:
        choice = _fresh_choice(monkeypatch, "auto", CXX=str(tmp_path / "no-such-compiler"),
                               ATS_MS_CACHE_DIR=str(tmp_path / "cache"))
        assert choice.name == "builtin"
        assert "no C++ compiler found" in choice.detail and "apt install g++" in choice.detail
        assert Conv2d(3, 4, 3).uses_onednn is False
        with pytest.raises(ConfigError, match="runtime.cpu_conv: onednn, but no C\\+\\+ compiler found"):
            _fresh_choice(monkeypatch, "onednn")
    finally:
        cpu_conv._current = before  # pylint: disable=protected-access


def test_without_headers_or_a_writable_cache_the_reason_is_named(monkeypatch, tmp_path):
    before = cpu_conv.current()
    try:
        choice = _fresh_choice(monkeypatch, "auto", ATS_MS_ONEDNN_INCLUDE=str(tmp_path),
                               ATS_MS_CACHE_DIR=str(tmp_path / "cache"))
        assert choice.name == "builtin" and "no oneDNN 3.x headers found" in choice.detail
        assert 'pip install "ats_ms[cpu]"' in choice.detail
        monkeypatch.delenv("ATS_MS_ONEDNN_INCLUDE")
        blocker = tmp_path / "file"
        blocker.write_text("")
        choice = _fresh_choice(monkeypatch, "auto", ATS_MS_CACHE_DIR=str(blocker / "cache"))
        assert choice.name == "builtin" and "cannot write the build cache" in choice.detail
        assert "ATS_MS_CACHE_DIR" in choice.detail
    finally:
        cpu_conv._current = before  # pylint: disable=protected-access


def test_on_other_devices_auto_is_builtin_and_onednn_is_refused():
    before = cpu_conv.current()
    try:
        assert cpu_conv.select("auto", "GPU").name == "builtin"
        with pytest.raises(ConfigError, match="CPU convolution, but runtime.device_target is Ascend"):
            cpu_conv.select("onednn", "Ascend")
        with pytest.raises(ConfigError, match="must be one of auto, builtin, onednn"):
            cpu_conv.select("fast")
    finally:
        cpu_conv._current = before  # pylint: disable=protected-access


def test_concurrent_first_uses_build_once_into_an_empty_cache(onednn, tmp_path):
    """Two processes (like the workers of one launch) start together on an empty cache: one compiles,
    the other waits for the lock and loads the same file; both pass the self-test."""
    code = ("import ats_ms, mindspore as ms; from ats_ms import cpu_conv; c = cpu_conv.select('onednn'); "
            "print(c.library.path)")
    env = dict(os.environ, ATS_MS_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths = {o[0].strip().splitlines()[-1] for o in outs}
    assert len(paths) == 1 and str(tmp_path) in paths.pop()
    built = [f for _, _, files in os.walk(tmp_path) for f in files if f.endswith(".so")]
    assert built == [build.LIBRARY_NAME]  # no partial file left behind


def test_a_build_killed_mid_compile_leaves_nothing_behind_for_long(onednn):
    """A compile killed between mkstemp and the rename leaves a partial library; the next use removes it."""
    folder = os.path.dirname(build.built_library())
    stale = os.path.join(folder, build.PARTIAL_PREFIX + "killed.so")
    with open(stale, "wb") as f:
        f.write(b"\x7fELF half a library")
    assert build.built_library() == os.path.join(folder, build.LIBRARY_NAME)
    assert not [n for n in os.listdir(folder) if n.startswith(build.PARTIAL_PREFIX)]
