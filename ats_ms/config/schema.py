"""The configuration schema: every key a run accepts, its type, default and allowed range.

Defaults reproduce the ATS paper's recipe (its section 5 and appendix): SGD momentum 0.9, weight decay 5e-4,
lr 0.05, batch 128, 240 epochs, 5-epoch linear warm-up, x0.1 at epochs 150/180/210, and the authors'
loss (lambda 0.5, student temperature 1, soft cross-entropy).  A YAML file and ``key.sub=value``
overrides are checked against these dataclasses before anything heavy starts.
"""
from dataclasses import dataclass, field, make_dataclass
from typing import List, Optional

from ats_ms import methods

DATASETS = ("cifar10", "cifar100", "image_folder", "digits", "imagenet", "tiny_imagenet", "cub200", "stanford_dogs",
            "speech_commands")
METHODS = methods.names()  # every registered method (ats_ms.methods)


@dataclass
class ExperimentConfig:
    name: str = "run"              # the run folder's name: one plain folder name
    output_dir: str = "runs"       # where run folders go (a run's saved config holds it absolute)
    seed: int = 0                  # initial weights, batch order and augmentation; 0 to 2^31-1


@dataclass
class DataConfig:
    name: str = "cifar100"            # the dataset (docs/datasets.md)
    root: str = "data"                # the folder that holds its release
    format: str = "auto"              # cifar: auto | binary | python
    download: bool = False            # cifar: fetch the official archive into root when absent
    url: Optional[str] = None         # override the official download address (mirrors, tests)
    md5: Optional[str] = None         # override the official archive checksum
    image_size: Optional[int] = None  # image_folder: resize to this square size (default 32)
    mean: Optional[List[float]] = None  # per-channel, on [0, 1] pixels; None = the dataset's own
    std: Optional[List[float]] = None   # per-channel; null = the dataset's own
    augment: bool = True              # random crop + flip on the training split
    hflip: Optional[bool] = None      # None = dataset default (off for digits)
    crop_padding: Optional[int] = None  # None = image_size // 8 (4 for CIFAR)
    batch_size: int = 128             # per device
    eval_batch_size: int = 256        # evaluation batches (the last one may be smaller)
    num_parallel_workers: int = 2     # pipeline workers, at most the CPUs
    train_samples: Optional[int] = None  # use only the first N training images (quick experiments)
    test_samples: Optional[int] = None   # evaluate on the first N test images only
    # A fixed class-balanced training subset: the first N images of each class in file order (ats_ms.data.subset);
    # of those, the last val_per_class of each class are held out as the validation split, evaluated beside the
    # test split at every evaluation (val_top1), so that settings can be chosen without looking at the test set.
    subset_per_class: Optional[int] = None
    val_per_class: int = 0            # the last V of each class held out as the validation split (val_top1)
    # Open every image file once before training, so an unreadable one is named before anything runs; null
    # (default) = yes for splits of up to 100,000 files, no for larger ones (ImageNet), where an unreadable file
    # stops the run when it is reached, named, and the run resumes once it is fixed.
    verify_images: Optional[bool] = None
    speech_task: str = "words35"      # speech_commands: words35 (every word) | twelve (10 keywords + silence + unknown)
    speech_split: str = "official"    # speech_commands: official (the release's lists) | paper (80/20 by speaker, 5 % valid)


@dataclass
class ModelConfig:
    arch: str = "vgg8"                  # the trained network (docs/api.md), resnet<6n+2>_a or mindcv:<name>
    num_classes: Optional[int] = None   # None = the dataset's class count
    checkpoint: Optional[str] = None    # optional initial weights for the trained network
    pretrained: bool = False            # mindcv:<name> networks: start from mindcv's ImageNet weights (downloaded)
    # auto | symmetric | same.  "same": the model-zoo demo's ResNet padding (TensorFlow-style on stride-2
    # convolutions); auto = what model.checkpoint records, else symmetric (the PyTorch references).
    padding: str = "auto"
    # VGG only: convolution biases (true, the PyTorch references) or none (false, the model-zoo demo's VGG);
    # null = what model.checkpoint records, else true.
    conv_bias: Optional[bool] = None
    # eval / analyze / export: the normalisation the evaluated network was trained with; null = what its
    # checkpoint records (converted published networks record theirs), else the data pipeline's.
    mean: Optional[List[float]] = None
    std: Optional[List[float]] = None   # (with mean) the evaluated network's training normalisation


@dataclass
class TeacherConfig:
    arch: Optional[str] = None          # the teacher's network
    checkpoint: Optional[str] = None    # its trained weights (ats_ms or converted)
    padding: str = "auto"               # auto = what the teacher checkpoint records, else symmetric
    conv_bias: Optional[bool] = None    # VGG: null = what the teacher checkpoint records, else true
    # The normalisation the teacher was trained with; null = what its checkpoint records (converted published
    # teachers record theirs), else the run's own data.mean/std.  When it differs from the run's, the teacher
    # is fed re-normalised inputs (an exact per-channel affine map in the graph); the student's are unchanged.
    mean: Optional[List[float]] = None
    std: Optional[List[float]] = None   # (with mean) the teacher's training normalisation


@dataclass
class _DistillCommon:
    method: str = "none"       # a registered method (docs/methods.md), those of your own packages included
    tau_target: float = 4.0    # tau1, the authors' tp_tau
    tau_wrong: float = 2.0     # tau2, the authors' t_tau
    tau_student: float = 1.0   # the authors' s_tau
    ce_weight: float = 0.5     # 1 - lamb
    kd_weight: float = 0.5     # lamb
    form: str = "soft_ce"      # the KD term: soft cross-entropy (the authors' code) or KL (the same gradient)
    keep_target_top: bool = False     # ATS guard: TS on samples where ATS would rank a wrong class first
    logit_standardize: bool = False   # z-score logits before the temperatures (ts / kd / ats / isats)
    cache_teacher_logits: bool = False  # teacher logits computed once (no augmentation, or flips only: crop_padding 0)
    label_smoothing: float = 0.0      # smoothing of the CE term on the labels (every method), 0 = none


# The keys every method shares, plus one section per method with options of its own (distill.dkd.alpha ...),
# taken from the method modules (ats_ms.methods), so a new method brings its section with it.
DistillConfig = make_dataclass("DistillConfig", [(name, options, field(default_factory=options))
                                                 for name, options in methods.sections()], bases=(_DistillCommon,))
DistillConfig.__doc__ = "The distill section: the keys every method shares and one sub-section per method."
DistillConfig.__module__ = __name__


@dataclass
class OptimConfig:
    name: str = "sgd"          # SGD with momentum
    lr: float = 0.05           # the base learning rate
    momentum: float = 0.9      # SGD momentum
    weight_decay: float = 5e-4  # on every parameter, BatchNorm and biases included (as the references)
    nesterov: bool = False     # PyTorch's Nesterov formula
    # How lr relates to the global batch (data.batch_size x devices): "none" uses optim.lr as written;
    # "linear" uses optim.lr * global_batch / base_batch_size (Goyal et al.).
    lr_scaling: str = "none"
    base_batch_size: int = 128  # the global batch optim.lr was set for (lr_scaling: linear)


@dataclass
class ScheduleConfig:
    epochs: int = 240          # training length
    warmup_epochs: float = 5.0               # linear warm-up
    warmup_start_lr: Optional[float] = None  # None: warm-up from lr / warmup_steps (the demo: 0.001)
    policy: str = "step"       # step | cosine | poly
    milestones: List[int] = field(default_factory=lambda: [150, 180, 210])  # step policy: epochs of the decays
    gamma: float = 0.1         # step policy: the factor of each decay
    power: float = 2.0         # poly only
    min_lr: float = 0.0        # cosine / poly floor


@dataclass
class RuntimeConfig:
    device_target: str = "CPU"  # CPU | GPU | Ascend
    device_id: int = 0          # the device of a single-device run
    mode: str = "graph"         # graph | pynative
    amp_level: str = "auto"     # auto (CPU O0, GPU O2, Ascend O3) | O0 | O1 | O2 | O3; losses stay float32
    loss_scale: float = 1.0     # static loss scale when AMP is off; AMP uses dynamic loss scaling
    distributed: bool = False   # set by python -m ats_ms.launch (run_train.sh) for multi-device launches
    dataset_sink_mode: bool = False  # MindSpore's sink mode (a no-op on CPU)
    fold_teacher_bn: bool = True  # fold the frozen teacher's BatchNorms into its convolutions (same logits)
    cpu_conv: str = "auto"      # auto | builtin | onednn: ats_ms's oneDNN convolution on CPU (auto: when it builds)


@dataclass
class LoggingConfig:
    log_interval: int = 50      # steps between progress lines
    eval_interval: int = 1      # epochs between student evaluations
    eval_teacher: bool = True   # evaluate the teacher once before training
    tensorboard: bool = False   # also write the logged scalars as TensorBoard events (pip install -e ".[tensorboard]")
    also_log_to: Optional[str] = None  # a second file that receives the train.log lines (the demo's --log_dir/--log_name)


@dataclass
class CheckpointConfig:
    resume: str = "none"        # none | auto | path to a train_state checkpoint
    save_state_every: int = 1   # epochs between full training-state saves
    copy_last_to: Optional[str] = None  # also write the final weights here (the demo's <ckpt_dir>/<ckpt_name>)


@dataclass
class Config:
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)


# Allowed values and numeric ranges, checked after types.  (section.key) -> rule
CHOICES = {
    "data.name": DATASETS,
    "data.format": ("auto", "binary", "python"),
    "data.speech_task": ("words35", "twelve"),
    "data.speech_split": ("official", "paper"),
    "distill.method": METHODS,
    "distill.form": ("soft_ce", "kl"),
    "optim.name": ("sgd",),
    "optim.lr_scaling": ("none", "linear"),
    "schedule.policy": ("step", "cosine", "poly"),
    "runtime.device_target": ("CPU", "GPU", "Ascend"),
    "runtime.mode": ("graph", "pynative"),
    "runtime.amp_level": ("auto", "O0", "O1", "O2", "O3"),
    "runtime.cpu_conv": ("auto", "builtin", "onednn"),
    "model.padding": ("auto", "symmetric", "same"),
    "teacher.padding": ("auto", "symmetric", "same"),
}
POSITIVE = ("data.batch_size", "data.eval_batch_size", "data.num_parallel_workers", "data.image_size",
            "data.train_samples", "data.test_samples", "data.subset_per_class", "model.num_classes",
            "distill.tau_target", "distill.tau_wrong", "distill.tau_student", "optim.lr", "optim.base_batch_size",
            "schedule.epochs", "schedule.gamma", "runtime.loss_scale", "logging.log_interval", "logging.eval_interval",
            "checkpoint.save_state_every")
NON_NEGATIVE = ("data.val_per_class", "distill.label_smoothing", "distill.ce_weight", "distill.kd_weight",
                "optim.momentum", "optim.weight_decay", "schedule.warmup_epochs", "schedule.min_lr",
                "schedule.warmup_start_lr", "runtime.device_id", "data.crop_padding", "schedule.power")
# (a method checks the keys of its own section: ats_ms.methods)
