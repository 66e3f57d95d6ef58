"""The README's main-job command, shortened to 2 epochs per run."""
import json
import os

from train_helpers import run_cli


def test_quickstart_trains_teacher_and_three_students(tmp_path):
    proc = run_cli("ats_ms.train", ["--quickstart", "--output-dir", str(tmp_path), "schedule.epochs=2"])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (root,) = [os.path.join(tmp_path, d) for d in os.listdir(tmp_path)]
    assert sorted(os.listdir(root)) == ["comparison.json", "comparison.md", "comparison.png", "student_ats",
                                        "student_ce", "student_ts", "teacher"]
    summaries = json.load(open(os.path.join(root, "comparison.json")))
    for label in ("teacher", "student_ce", "student_ts", "student_ats"):
        assert summaries[label]["best_top1"] > 20, label  # chance is 10 % on digits
    assert summaries["student_ats"]["method"] == "ats" and summaries["student_ats"]["tau_wrong"] == 2.0
    assert "| student resnet8 | ATS | 4 / 2 |" in proc.stdout
