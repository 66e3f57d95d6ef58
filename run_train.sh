#!/usr/bin/env bash
# Launch ats_ms training.  Single device for now:
#   bash run_train.sh --config FILE [--device CPU|GPU|Ascend] [-- section.key=value ...]
set -euo pipefail
usage() { sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'; }
config=""; device=""; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --device) device="${2:?--device needs CPU, GPU or Ascend}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_train.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$config" ] || { echo "run_train.sh: --config FILE is required" >&2; usage >&2; exit 2; }
args=(--config "$config")
[ -n "$device" ] && args+=("runtime.device_target=$device")
exec python -m ats_ms.train "${args[@]}" "${extra[@]}"
