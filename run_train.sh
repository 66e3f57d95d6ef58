#!/usr/bin/env bash
# run_train.sh: launch ats_ms training on one device, several devices, or several nodes.
#
#   bash run_train.sh --config FILE [options] [-- section.key=value ...]
#
# e.g. ImageNet ResNet-34 -> ResNet-18 with ATS on 2 nodes x 8 Ascend devices (run on each node, its own rank):
#   bash run_train.sh --config imagenet/kd_benchmark/resnet34_to_resnet18/ats --device Ascend --devices 8 \
#        --nodes 2 --node-rank 0 --master-addr 10.0.0.1 -- data.root=/data/imagenet
#
# Options:
#   --config FILE          YAML config, or a shipped config's name (required)
#   --device D             CPU | GPU | Ascend (sets runtime.device_target; default: the config's)
#   --devices N            devices (worker processes) per node (default 1)
#   --nodes M              number of nodes (default 1)
#   --node-rank R          this node's rank, 0..M-1 (default 0)
#   --master-addr A        address of node 0 (default 127.0.0.1)
#   --master-port P        port of the scheduler on node 0 (default 8118)
#   --launcher L           msrun (default; Ascend, GPU, CPU) | mpirun (GPU clusters with OpenMPI) |
#                          ranktable (older Ascend setups: DEVICE_ID/RANK_ID/RANK_TABLE_FILE per process)
#   --rank-table FILE      the Ascend rank table JSON (required with --launcher ranktable)
#   --sweep "ARGS"         run ats_ms.sweep with these arguments instead of one training, e.g.
#                          --sweep "--grid distill.tau_wrong=1,2,4 --shared-teacher" (every device runs
#                          every point; several devices train each point data-parallel)
#   --background           single device: run with nohup, output to <run dir>/logs/train.out
#   --log-dir DIR          per-rank logs (default: <run dir>/logs)
#   --dry-run              print the commands instead of running them
#   -h, --help             this text
#
# Several devices imply runtime.distributed=true: data parallel with gradient averaging, the dataset
# sharded by rank, the teacher replicated and frozen on every rank, files written by rank 0 only.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "run_train.sh: $*" >&2; echo "Run 'bash run_train.sh --help' for the options." >&2; exit 2; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || die "$1 needs a value"; }
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }

config=""; device=""; devices=1; nodes=1; node_rank=0; master_addr="127.0.0.1"; master_port=8118
launcher="msrun"; rank_table=""; background=0; log_dir=""; dry_run=0; extra=(); sweep_args=""; sweeping=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config) need_value "$@"; config="$2"; shift 2 ;;
    --device) need_value "$@"; device="$2"; shift 2 ;;
    --devices) need_value "$@"; devices="$2"; shift 2 ;;
    --nodes) need_value "$@"; nodes="$2"; shift 2 ;;
    --node-rank) need_value "$@"; node_rank="$2"; shift 2 ;;
    --master-addr) need_value "$@"; master_addr="$2"; shift 2 ;;
    --master-port) need_value "$@"; master_port="$2"; shift 2 ;;
    --launcher) need_value "$@"; launcher="$2"; shift 2 ;;
    --rank-table) need_value "$@"; rank_table="$2"; shift 2 ;;
    --sweep) [ $# -ge 2 ] || die "--sweep needs its arguments in one string"; sweep_args="$2"; sweeping=1; shift 2 ;;
    --background) background=1; shift ;;
    --log-dir) need_value "$@"; log_dir="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown argument '$1' (config overrides go after '--', e.g. -- optim.lr=0.1)" ;;
  esac
done

[ -n "$config" ] || die "--config FILE is required"
case "$device" in ""|CPU|GPU|Ascend) ;; *) die "--device must be CPU, GPU or Ascend, got '$device'" ;; esac
for pair in "devices:$devices" "nodes:$nodes" "node-rank:$node_rank" "master-port:$master_port"; do
  is_int "${pair#*:}" || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
[ "$devices" -ge 1 ] || die "--devices must be at least 1"
[ "$nodes" -ge 1 ] || die "--nodes must be at least 1"
[ "$node_rank" -lt "$nodes" ] || die "--node-rank must be below --nodes ($nodes), got $node_rank"
case "$launcher" in msrun|mpirun|ranktable) ;; *) die "--launcher must be msrun, mpirun or ranktable, got '$launcher'" ;; esac
if [ "$launcher" = ranktable ]; then
  [ -n "$rank_table" ] || die "--launcher ranktable needs --rank-table FILE"
  [ -f "$rank_table" ] || die "rank table '$rank_table' does not exist"
fi

overrides=("${extra[@]}")
[ -n "$device" ] && overrides+=("runtime.device_target=$device")
world=$((devices * nodes))
[ "$world" -gt 1 ] && overrides+=("runtime.distributed=true")

# Validate the whole config before launching anything, and learn the run directory.
run_dir=$(python -m ats_ms.train --print-run-dir --config "$config" "${overrides[@]}") || exit 2
log_dir="${log_dir:-$run_dir/logs}"
# shellcheck disable=SC2206  # the sweep arguments are split into words on purpose
sweep_words=($sweep_args)
if [ "$sweeping" = 1 ]; then
  train=(python -m ats_ms.sweep --config "$config" "${sweep_words[@]}" "${overrides[@]}")
  worker_module=sweep_worker
else
  train=(python -m ats_ms.train --config "$config" "${overrides[@]}")
  worker_module=train_worker
fi

run() {  # print (dry run) or execute a command
  if [ "$dry_run" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi
}

if [ "$world" -eq 1 ]; then
  if [ "$background" = 1 ]; then
    [ "$dry_run" = 1 ] || mkdir -p "$log_dir"
    if [ "$dry_run" = 1 ]; then echo "nohup $(printf '%q ' "${train[@]}")> $log_dir/train.out 2>&1 &"; exit 0; fi
    nohup "${train[@]}" > "$log_dir/train.out" 2>&1 &
    echo "started in the background (pid $!); log: $log_dir/train.out"
    exit 0
  fi
  [ "$dry_run" = 1 ] && { run "${train[@]}"; exit 0; }
  exec "${train[@]}"
fi

[ "$dry_run" = 1 ] || mkdir -p "$log_dir"
case "$launcher" in
  msrun)
    worker=$(python -c "import ats_ms.launch.$worker_module as w; print(w.__file__)")
    run msrun --worker_num="$world" --local_worker_num="$devices" --master_addr="$master_addr" \
      --master_port="$master_port" --node_rank="$node_rank" --log_dir="$log_dir" --join=True \
      --cluster_time_out=600 "$worker" --config "$config" "${train[@]:5}"
    ;;
  mpirun)
    [ "$nodes" -eq 1 ] || echo "run_train.sh: with mpirun on several nodes, pass the hosts through your MPI setup (hostfile / OMPI_MCA_* variables)" >&2
    run mpirun -n "$world" --allow-run-as-root --output-filename "$log_dir" --merge-stderr-to-stdout "${train[@]}"
    ;;
  ranktable)
    pids=()
    for ((i = 0; i < devices; i++)); do
      rank=$((node_rank * devices + i))
      if [ "$dry_run" = 1 ]; then
        echo "DEVICE_ID=$i RANK_ID=$rank RANK_SIZE=$world RANK_TABLE_FILE=$rank_table $(printf '%q ' "${train[@]}")> $log_dir/rank_$rank.log 2>&1 &"
        continue
      fi
      DEVICE_ID=$i RANK_ID=$rank RANK_SIZE=$world RANK_TABLE_FILE=$(realpath "$rank_table") \
        "${train[@]}" > "$log_dir/rank_$rank.log" 2>&1 &
      pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
    [ "$dry_run" = 1 ] || echo "per-rank logs: $log_dir/rank_*.log"
    exit "$status"
    ;;
esac
