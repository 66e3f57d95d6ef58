"""The README's main-job command, shortened: Ctrl-C stops the whole quick start, and the command it
prints continues it to the comparison table and picture."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

from train_helpers import REPO, run_cli

SHORT = ["schedule.epochs=2", "schedule.warmup_epochs=0", "schedule.milestones=[]"]


def test_quickstart_interrupted_then_continued_with_the_printed_command(tmp_path):
    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.Popen([sys.executable, "-m", "ats_ms.train", "--quickstart", "--output-dir", str(tmp_path)] + SHORT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
    deadline = time.time() + 180
    while time.time() < deadline:
        roots = os.listdir(tmp_path)
        log = os.path.join(tmp_path, roots[0], "teacher", "train.log") if roots else ""
        if log and os.path.exists(log) and " step " in open(log).read():
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-3000:]  # Ctrl-C stops the whole quick start...
    (root,) = [os.path.join(tmp_path, d) for d in os.listdir(tmp_path)]
    assert os.listdir(root) == ["teacher"], "no student may start after Ctrl-C"
    command = shlex.split(out.split("Continue it with:\n")[1].splitlines()[0])
    assert command[:4] == ["python", "-m", "ats_ms.train", "--quickstart"] and command[-len(SHORT):] == SHORT

    done = run_cli("ats_ms.train", command[3:])  # ...and the command it prints finishes it
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert sorted(os.listdir(root)) == ["comparison.json", "comparison.md", "comparison.png", "student_ats",
                                        "student_ce", "student_ts", "teacher"]
    summaries = json.load(open(os.path.join(root, "comparison.json")))
    assert summaries["teacher"]["best_top1"] > 20  # chance is 10 % on digits
    for label in ("student_ce", "student_ts", "student_ats"):  # 8 steps on 100 images: too few to assert
        summary = json.load(open(os.path.join(root, label, "summary.json")))  # learning (test_train_e2e does)
        assert summary["steps"] == 2 * (100 // 32), label
        assert summaries[label]["best_top1"] == summary["best_top1"], label  # the table is the runs' own numbers
    assert summaries["student_ats"]["method"] == "ats" and summaries["student_ats"]["tau_wrong"] == 2.0
    assert "| student resnet8 | ATS | 100 | 4 / 2 |" in done.stdout and "| teacher resnet14 | CE | all | - |" in done.stdout
    assert open(os.path.join(root, "comparison.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
