#!/usr/bin/env bash
# run_train.sh: train on one device, several devices (msrun / mpirun / rank table) or several nodes.
# It runs `python -m ats_ms.launch` with the same arguments (also available where ats_ms is installed from a
# wheel); `bash run_train.sh --help` lists the options.
#
#   bash run_train.sh --config FILE [--device CPU|GPU|Ascend] [--devices N] [--nodes M --node-rank R
#        --master-addr A] [--launcher msrun|mpirun|ranktable] [--sweep "ARGS"] [--dry-run] [-- key=value ...]
exec python -m ats_ms.launch "$@"
