"""Google Speech Commands (v0.02 layout) as one-channel log-mel "images".

Layout: ``ROOT/<word>/<speaker>_nohash_<n>.wav`` (16 kHz, 16-bit mono, about 1 s), ``ROOT/validation_list.txt``,
``ROOT/testing_list.txt`` and ``ROOT/_background_noise_/*.wav``.

- ``data.speech_task``: ``words35`` (every word folder is a class: the 35 words of v0.02) or ``twelve`` (the
  keyword-spotting task: yes, no, up, down, left, right, on, off, stop, go, ``_unknown_`` for every other word and
  ``_silence_`` for 1-second windows cut from the background-noise recordings every half second).
- ``data.speech_split``: ``official`` (the release's validation and testing lists; the rest is training) or
  ``paper`` (the ATS paper's protocol: 80 % train / 20 % test, 5 % of the training part held out for validation,
  assigned by a hash of the speaker id so that no speaker is in two splits).  Either way a file is in exactly one
  split.  (MindSpore 2.10's ``SpeechCommandsDataset`` was measured returning every file for ``usage`` train,
  valid and test alike on a tree with both list files, so ats_ms makes the split itself.)
- Every clip is padded with zeros or cut to 16,000 samples, turned into a 64-band mel power spectrogram (25 ms
  periodic-Hann windows every 10 ms, centred with reflection, 20-8,000 Hz, HTK mel scale) in decibels (top 80 dB),
  and normalised with the training split's mean and standard deviation: a 1 x 64 x 101 input.  The features are
  MindSpore's ``MelSpectrogram`` + ``AmplitudeToDB`` (tested equal), computed with numpy's FFT and MindSpore's
  own mel filter bank: MindSpore 2.10's ``Spectrogram`` and ``MelScale`` took 16 and 8 ms per clip here, numpy
  0.3 ms, which made the pipeline 70 clips/s per worker.  A sample rate other than 16 kHz, a
  stereo or 8-bit file, and an unreadable file are refused, each naming the file (resampling would change the
  data the published numbers were measured on).
"""
import os
import wave
import zlib
from functools import lru_cache

import numpy as np
import mindspore as ms
import mindspore.dataset as ds

from ats_ms.data.file_list import read_text_lines
from ats_ms.data.source import Source, require_folder
from ats_ms.common.errors import DatasetError

SAMPLE_RATE = 16_000
CLIP = SAMPLE_RATE
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
BACKGROUND = "_background_noise_"
SILENCE, UNKNOWN = "_silence_", "_unknown_"
MEL = dict(sample_rate=SAMPLE_RATE, n_fft=512, win_length=400, hop_length=160, f_min=20.0, f_max=8000.0, n_mels=64)
STATS_CLIPS = 256  # training clips the normalisation statistics are computed from
SPECTROGRAM_SHAPE = (1, MEL["n_mels"], CLIP // MEL["hop_length"] + 1)  # 1 x 64 x 101
_STATS = {}  # (root, task, split policy) -> training statistics, computed once per process


def read_wav(path):
    """float32 samples in [-1, 1]; a file that is not 16 kHz 16-bit mono PCM is refused, naming it."""
    try:
        with wave.open(path, "rb") as f:
            rate, channels, width, frames = f.getframerate(), f.getnchannels(), f.getsampwidth(), f.getnframes()
            raw = f.readframes(frames)
    except (wave.Error, EOFError, OSError) as exc:
        raise DatasetError(f"Invalid file {path} cannot be read as a WAV file ({exc}). Remove or replace it.") from None
    if rate != SAMPLE_RATE or channels != 1 or width != 2:
        raise DatasetError(f"Invalid file {path} cannot be used: {rate} Hz, {channels} channel(s), {8 * width}-bit; "
                           "Speech Commands clips are 16 kHz 16-bit mono. Convert it (e.g. sox in.wav -r 16000 -c 1 "
                           "-b 16 out.wav) or remove it.")
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0


def fixed_length(samples, start=0):
    clip = samples[start:start + CLIP]
    return np.pad(clip, (0, CLIP - len(clip))) if len(clip) < CLIP else clip


def _speaker(relative):
    return os.path.basename(relative).split("_nohash_")[0]


def _bucket(text, salt=""):
    return zlib.crc32((salt + text).encode("utf-8")) % 100


def _read_list(root, name):
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        raise DatasetError(f"'{path}' is missing: data.speech_split=official splits by the release's lists. Restore "
                           "it, or use data.speech_split=paper (80/20 by speaker).")
    return {line.strip().replace("\\", "/") for line in read_text_lines(path, "Restore it from the release.")
            if line.strip()}


def split_files(root, policy):
    """{split: [relative path]} over every word folder; ``valid`` is held out of training."""
    words = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d != BACKGROUND
                   and not d.startswith("."))
    if not words:
        raise DatasetError(f"'{root}' has no word folders. Expected ROOT/<word>/<speaker>_nohash_<n>.wav.")
    files = []
    for word in words:
        found = sorted(f for f in os.listdir(os.path.join(root, word)) if f.lower().endswith(".wav"))
        if not found:
            raise DatasetError(f"Word folder '{os.path.join(root, word)}' holds no .wav files.")
        files += [f"{word}/{f}" for f in found]
    splits = {"train": [], "valid": [], "test": []}
    if policy == "official":
        valid, test = _read_list(root, "validation_list.txt"), _read_list(root, "testing_list.txt")
        listed = valid | test
        absent = sorted(listed - set(files))
        if absent:
            raise DatasetError(f"The split lists name '{absent[0]}' ({len(absent)} files in all), which is not in "
                               f"'{root}'. The lists belong to another release or files are missing.")
        for rel in files:
            splits["valid" if rel in valid else "test" if rel in test else "train"].append(rel)
    else:
        for rel in files:
            if _bucket(_speaker(rel)) < 20:
                splits["test"].append(rel)
            else:
                splits["valid" if _bucket(_speaker(rel), "valid") < 5 else "train"].append(rel)
    return words, splits


def _silence_windows(root, split, policy):
    """(path, start sample) of 1-second background-noise windows every half second, assigned to splits by a
    hash of (file, window) in the proportions of ``policy``."""
    folder = os.path.join(root, BACKGROUND)
    if not os.path.isdir(folder):
        raise DatasetError(f"'{folder}' is missing: the twelve-class task takes its _silence_ clips from it.")
    windows = []
    for name in sorted(f for f in os.listdir(folder) if f.lower().endswith(".wav")):
        path = os.path.join(folder, name)
        samples = len(read_wav(path))
        for start in range(0, max(samples - CLIP, 0) + 1, CLIP // 2):
            bucket = _bucket(f"{name}:{start}")
            test_share = 20 if policy == "paper" else 10
            which = "test" if bucket < test_share else ("valid" if bucket < test_share + (5 if policy == "paper" else 10)
                                                        else "train")
            if which == split:
                windows.append((path, start))
    return windows


class _Clips:
    """Random-access (waveform, label) pairs."""

    def __init__(self, items, labels):
        self.items, self.labels = items, np.asarray(labels, np.int32)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, start = self.items[index]
        return log_mel(fixed_length(read_wav(path), start)), self.labels[index]


@lru_cache(maxsize=1)
def mel_filter_bank():
    """MindSpore's ``MelScale`` filter bank as a (n_mels, n_fft // 2 + 1) matrix: the op applied to the identity
    spectrogram, computed once per process."""
    import mindspore.dataset.audio as A  # pylint: disable=import-outside-toplevel
    n_stft = MEL["n_fft"] // 2 + 1
    scale = A.MelScale(n_mels=MEL["n_mels"], sample_rate=MEL["sample_rate"], f_min=MEL["f_min"], f_max=MEL["f_max"],
                       n_stft=n_stft)
    return np.asarray(scale(np.eye(n_stft, dtype=np.float32)), np.float32)


def power_spectrogram(samples):
    """|STFT|^2, (n_fft // 2 + 1, frames): centred frames (reflection padding), a periodic Hann window of
    ``win_length`` in the middle of ``n_fft``, as MindSpore's ``Spectrogram`` with its defaults computes it."""
    n_fft, win, hop = MEL["n_fft"], MEL["win_length"], MEL["hop_length"]
    padded = np.pad(samples.astype(np.float64), (n_fft // 2, n_fft // 2), mode="reflect")
    window = np.zeros(n_fft)
    window[(n_fft - win) // 2:(n_fft - win) // 2 + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    frames = 1 + (len(padded) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return (np.abs(np.fft.rfft(padded[index] * window, axis=1)) ** 2).T


def log_mel(samples, top_db=80.0, amin=1e-10):
    """(n_mels, frames) mel power in decibels, the top ``top_db`` kept (MindSpore's ``AmplitudeToDB``, power)."""
    db = 10.0 * np.log10(np.maximum(mel_filter_bank().astype(np.float64) @ power_spectrogram(samples), amin))
    return np.maximum(db, db.max() - top_db).astype(np.float32)


def _stats(items):
    """Mean and std of the training split's log-mel values (over its first ``STATS_CLIPS`` clips)."""
    values = np.concatenate([log_mel(fixed_length(read_wav(p), s)).ravel() for p, s in items[:STATS_CLIPS]])
    return (float(values.mean()),), (float(values.std()) or 1.0,)


def speech_commands_source(cfg, split, limit=None):
    del limit
    root = cfg.root
    require_folder(root, "Speech Commands root", "ROOT/<word>/<speaker>_nohash_<n>.wav with validation_list.txt "
                                                 "and testing_list.txt.")
    words, splits = split_files(root, cfg.speech_split)
    if cfg.speech_task == "words35":
        classes = words
        label_of = {w: i for i, w in enumerate(words)}
    else:
        missing = [k for k in KEYWORDS if k not in words]
        if missing:
            raise DatasetError(f"The twelve-class task needs the word folders {', '.join(KEYWORDS)}; '{root}' lacks "
                               f"{', '.join(missing)}. Use data.speech_task=words35, or restore them.")
        classes = list(KEYWORDS) + [SILENCE, UNKNOWN]
        label_of = {w: (KEYWORDS.index(w) if w in KEYWORDS else len(KEYWORDS) + 1) for w in words}

    def items_of(which):
        chosen = splits[which]
        items = [(os.path.join(root, rel), 0) for rel in chosen]
        labels = [label_of[rel.split("/")[0]] for rel in chosen]
        if cfg.speech_task == "twelve":
            silence = _silence_windows(root, which, cfg.speech_split)
            items += silence
            labels += [len(KEYWORDS)] * len(silence)
        return items, labels

    items, labels = items_of("train" if split == "train" else "test")
    if cfg.verify_images or (cfg.verify_images is None and len(items) <= 100_000):
        for path, _ in items:
            read_wav(path)
    key = (os.path.abspath(root), cfg.speech_task, cfg.speech_split)
    if key not in _STATS:
        train_items = items if split == "train" else items_of("train")[0]
        _STATS[key] = _stats(train_items) if train_items else ((0.0,), (1.0,))
    mean_std = _STATS[key]

    def build(sampler, num_parallel_workers):
        # One Python thread: two contended for the GIL and delivered 320 clips/s against 1,170 for one (measured).
        del num_parallel_workers
        data = ds.GeneratorDataset(_Clips(items, labels), ["image", "label"], sampler=sampler,
                                   python_multiprocessing=False, num_parallel_workers=1)
        return data.map(ds.transforms.TypeCast(ms.int32), input_columns="label")

    return Source(name="speech_commands", split=split, num_samples=len(items), num_classes=len(classes),
                  class_names=classes, image_size=MEL["n_mels"], build=build, mean_std=mean_std, hflip=False,
                  location=root, pipeline="speech", channels=1)
