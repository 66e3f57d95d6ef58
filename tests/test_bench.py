"""The benchmark command runs and reports every quantity (speed itself is never asserted)."""
import json
import os

import mindspore as ms

from train_helpers import run_cli


def _assert_run_record(result, command_start):
    """Where and how a results file was measured, the same fields for both benchmarks."""
    assert result["device"] == "CPU" and result["machine"]["cpus"] == os.cpu_count()
    assert result["versions"]["mindspore"] == ms.__version__
    assert result["command"].startswith(command_start), result["command"]


def test_bench_reports_every_measurement(tmp_path):
    args = ["--pairs", "resnet8:resnet8", "--batch-sizes", "8", "--steps", "1", "--reps", "1", "--warmup", "1",
            "--output", str(tmp_path / "b.json")]
    try:
        import torch  # noqa: F401
        args.append("--torch")
    except ImportError:
        pass
    proc = run_cli("ats_ms.bench", args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.load(open(tmp_path / "b.json"))
    rows = result["rows"]
    assert [r["conv"] for r in rows] == ["builtin", "onednn"]  # both CPU convolutions, side by side
    _assert_run_record(result, "python -m ats_ms.bench --pairs resnet8:resnet8 --batch-sizes 8")
    for row in rows:
        for key in ("ce_ms", "teacher_ms", "kd_ms", "cached_kd_ms", "kd_img_s", "overhead", "ce_compile_s",
                    "kd_compile_s", "peak_rss_mb", "ce_warmup_steps", "kd_warmup_steps"):
            assert row[key] > 0, key
        assert row["kd_warmup_steps"] >= 2 and isinstance(row["kd_steady"], bool)
        assert row["teacher_bn_folded"] is True
        if "--torch" in args:
            assert row["torch_kd_ms"] > 0 and row["ms_throughput_vs_torch"] > 0
    assert result["pipeline_images_per_s"] > 0
    assert "overhead" in proc.stdout and "images/s" in proc.stdout
    assert "oneDNN convolution: KD step" in proc.stdout and "the built-in's speed" in proc.stdout


def test_warm_up_lasts_until_two_consecutive_steps_agree():
    """A step that is slow for its first calls (as after a graph compile): the warm-up runs until two
    consecutive times agree within 10 %, and says when they never do.  Driven by a fake clock."""
    from ats_ms.benchmark.timing import warm_up
    durations = iter([4.2, 2.0, 1.35, 1.30, 1.31, 1.29])
    now = [0.0]
    calls = []

    def timer():
        return now[0]

    def step():
        calls.append(1)
        now[0] += next(durations)

    assert warm_up(step, 1, timer=timer) == (4, True)  # 1.35 -> 1.30 is the first pair within 10 %
    assert len(calls) == 4
    now[0], flaky = 0.0, iter([1.0, 2.0] * 10)
    assert warm_up(lambda: now.__setitem__(0, now[0] + next(flaky)), 1, max_steps=6, timer=timer) == (6, False)


def test_bench_rejects_bad_pairs():
    proc = run_cli("ats_ms.bench", ["--pairs", "resnet8", "--batch-sizes", "8"])
    assert proc.returncode == 2 and "--pairs must look like" in proc.stderr


def test_bench_of_shared_teacher_groups_reports_per_student_cost(tmp_path):
    proc = run_cli("ats_ms.bench", ["--pairs", "resnet8:resnet8", "--batch-sizes", "8", "--students", "1,2", "--steps",
                                    "1", "--reps", "1", "--warmup", "0", "--num-classes", "10", "--output",
                                    str(tmp_path / "s.json")])
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.load(open(tmp_path / "s.json"))
    _assert_run_record(result, "python -m ats_ms.bench --pairs resnet8:resnet8 --batch-sizes 8 --students 1,2")
    rows = result["rows"]
    assert [r["students"] for r in rows] == [1, 2]
    for row in rows:
        assert row["group_step_ms"] > 0 and row["peak_rss_mb"] > 0 and row["speedup_vs_separate"] > 0
        assert row["warmup_steps"] >= 2 and "warm-up" in proc.stdout
        assert abs(row["per_student_step_ms"] * row["students"] - row["group_step_ms"]) < 0.2
    assert rows[0]["speedup_vs_separate"] == 1.0 and "per student" in proc.stdout
