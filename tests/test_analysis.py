"""Dark-knowledge measurements against hand-made cases, and the analyze command end to end."""
import json

import numpy as np
import pytest

import mindspore as ms

from ats_ms.analysis import dark_knowledge as dk
from ats_ms.analyze import main as analyze_main
from ats_ms.config import load_config
from ats_ms.engine.trainer import train
from ats_ms.losses import ATSLoss
from train_helpers import tiny_overrides

RNG = np.random.RandomState(0)
LOGITS = RNG.randn(64, 10).astype(np.float32) * 3
LABELS = RNG.randint(0, 10, 64)


def test_wrong_class_stats_by_hand():
    p = np.array([[0.7, 0.2, 0.1, 0.0], [0.1, 0.5, 0.3, 0.1]])
    stats = dk.wrong_class_stats(p, np.array([0, 2]))
    assert stats["e_q"] == pytest.approx((0.1 + 0.7 / 3) / 2)
    assert stats["sigma_q"] == pytest.approx((np.std([0.2, 0.1, 0.0]) + np.std([0.1, 0.5, 0.1])) / 2)
    assert stats["p_target"] == pytest.approx(0.5) and stats["target_top1"] == 0.5


def test_sweep_contains_ts_ats_and_pairs():
    sweep = dk.temperature_sweep(LOGITS, LABELS, pairs=[(4.0, 2.0)])
    assert [r["tau"] for r in sweep["ts"]] == list(dk.SWEEP_TAUS)
    row = sweep["ats"][dk.SWEEP_TAUS.index(4)]
    assert (row["tau_target"], row["tau_wrong"]) == (5.0, 3.0)
    assert sweep["pair_4_2"]["sigma_q"] == pytest.approx(
        dk.wrong_class_stats(dk.scaled_probs(LOGITS, LABELS, 4, 2), LABELS)["sigma_q"])
    # high temperature flattens the soft label: less spread than at tau 1
    assert sweep["ts"][-1]["sigma_q"] < sweep["ts"][dk.SWEEP_TAUS.index(1)]["sigma_q"]


def test_decomposition_adds_up_to_the_ats_loss_kd_term():
    student = RNG.randn(64, 10).astype(np.float32)
    parts = dk.kd_decomposition(LOGITS, student, LABELS, 4.0, 2.0, 1.0)
    kd = ATSLoss(4.0, 2.0).terms(ms.Tensor(student), ms.Tensor(LOGITS), ms.Tensor(LABELS.astype(np.int32)))[2]
    assert parts["correct_guidance"] + parts["smooth_regularisation"] + parts["class_discriminability"] == \
        pytest.approx(parts["total"])
    assert parts["total"] == pytest.approx(float(kd.asnumpy()), abs=1e-5)


def test_calibration_by_hand():
    logits = np.log(np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]]))
    calib = dk.calibration(logits, np.array([0, 1, 0, 0]), bins=10)
    # bin (0.8, 0.9]: confidence 0.9, accuracy 0.5; bin (0.5, 0.6]: confidence 0.6, accuracy 1.0
    assert calib["ece"] == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert calib["accuracy"] == 0.75 and sum(b["count"] for b in calib["bins"]) == 4


def test_agreement_extremes():
    same = dk.class_affinity_agreement(LOGITS, LOGITS * 2 + 1, LABELS)
    assert same["spearman"] == pytest.approx(1) and same["kendall"] == pytest.approx(1)
    assert same["top5_overlap"] == pytest.approx(1)
    flipped = dk.class_affinity_agreement(LOGITS, -LOGITS, LABELS)
    assert flipped["spearman"] == pytest.approx(-1) and flipped["kendall"] == pytest.approx(-1)


def test_class_affinity_and_its_consistency_by_hand():
    # two classes, three classes in all; class 0's samples put more mass on class 2 than on class 1
    logits = np.log(np.array([[0.7, 0.1, 0.2], [0.5, 0.2, 0.3], [0.1, 0.6, 0.3]]))
    labels = np.array([0, 0, 1])
    m = dk.class_affinity(logits, labels)
    np.testing.assert_allclose(m[0], [np.nan, 0.15, 0.25])
    np.testing.assert_allclose(m[1], [0.1, np.nan, 0.3])
    assert np.isnan(m[2]).all()  # no sample of class 2
    rows = np.array([[np.nan, 1, 2, 3, 4], [4, np.nan, 3, 2, 1]], float)
    same = dk.affinity_consistency(rows, rows * 10)
    assert same["class_spearman_mean"] == pytest.approx(1) and same["classes"] == 2
    reverse = dk.affinity_consistency(rows, -rows)
    assert reverse["class_spearman_mean"] == pytest.approx(-1) and reverse["class_spearman_min"] == pytest.approx(-1)


def test_analyze_on_trained_and_converted_teachers(tmp_path, capsys):
    out = str(tmp_path)
    train(load_config(None, tiny_overrides(out, "teacher", "resnet14", epochs=2)))
    train(load_config(None, tiny_overrides(out, "student", "resnet8", epochs=1)))
    teachers = ["--teacher", f"resnet14:{out}/teacher/best.ckpt"]
    torch = None
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    if torch is not None:  # a PyTorch teacher converted to ats_ms
        from ats_ms.interop.torch_reference import RefResNet, randomise_batchnorm
        from ats_ms.engine.import_model import convert
        ref = randomise_batchnorm(RefResNet(8, (16, 16, 32, 64), 10))
        torch.save(ref.state_dict(), tmp_path / "ref.pth")
        convert("resnet8", str(tmp_path / "ref.pth"), str(tmp_path / "converted.ckpt"))
        teachers += ["--teacher", f"torch_r8=resnet8:{tmp_path}/converted.ckpt"]
    rc = analyze_main(["--config", f"{out}/teacher/config.yaml", *teachers, "--student",
                       f"resnet8:{out}/student/best.ckpt", "--pair", "4:2", "--output", f"{out}/an",
                       "--split", "test,train"])
    assert rc == 0
    reports = json.load(open(f"{out}/an/analysis.json"))
    assert sorted(reports) == ["test", "train"] and reports["train"]["images"] == 1438
    report = reports["test"]
    assert report["images"] == 359 and report["teachers"]["resnet14"]["calibration"]["accuracy"] > 0.3
    assert report["teachers"]["resnet14"]["parameters"] == 175_258  # resnet14 at 10 classes
    table = open(f"{out}/an/analysis.md").read()
    assert "## digits test split (359 images)" in table and "| resnet14 | 175,258 |" in table
    assert "pair_4_2" in report["teachers"]["resnet14"]["sweep"]
    split = report["decomposition"]["resnet14 -> resnet8"]
    assert set(split) >= {"correct_guidance", "smooth_regularisation", "class_discriminability"}
    assert "The KD term split" in table and f"| resnet14 -> resnet8 | 4 / 2 / 1 | {split['correct_guidance']:.4f} |" in table
    printed = capsys.readouterr().out
    assert f"test resnet14 -> resnet8: KD term {split['total']:.4f} = correct guidance" in printed
    for name in ("sigma_q_vs_tau_test.png", "e_q_vs_tau_train.png", "reliability_resnet14_test.png"):
        assert open(f"{out}/an/{name}", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    if torch is not None:
        assert list(report["agreement"]) == ["resnet14 vs torch_r8"]
        assert -1 <= report["agreement"]["resnet14 vs torch_r8"]["kendall"] <= 1
        assert -1 <= report["affinity_consistency"]["resnet14 vs torch_r8"]["class_spearman_mean"] <= 1
        assert "| resnet14 vs torch_r8 |" in table


def test_a_teacher_spec_names_any_network_mindcv_included(tmp_path):
    """ARCH:CHECKPOINT where ARCH may hold a ':' of its own (mindcv:<name>) and the path ':' and '='."""
    from ats_ms.analyze import parse_net
    path = tmp_path / "tau_target=4__x:y.ckpt"
    path.write_bytes(b"0")
    assert parse_net(f"mindcv:resnet18:{path}", "--teacher") == ("mindcv:resnet18", "mindcv:resnet18", str(path))
    assert parse_net(f"big=mindcv:resnet50:{path}", "--teacher") == ("big", "mindcv:resnet50", str(path))
    assert parse_net(f"resnet8:{path}", "--teacher") == ("resnet8", "resnet8", str(path))
    assert parse_net(f"t=wrn_16_1:{path}", "--teacher") == ("t", "wrn_16_1", str(path))
