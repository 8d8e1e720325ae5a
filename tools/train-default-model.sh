#!/usr/bin/env bash
# Continues the training run of the bundled default model in models/training, exactly where its
# committed checkpoint stopped: stage 1 (teacher) up to STAGE1_STEPS updates unless stage 2 has
# begun, then stage 2 (student, with EMA) for as long as it is left running. Start it in the
# background, nice'd:
#   nohup nice -n 10 tools/train-default-model.sh >> models/training/train.out 2>&1 &
# Ctrl-C or SIGTERM saves a checkpoint and stops; run the script again to continue. Sizes were chosen
# by the sweep in models/training/README.md. KDSR_BIN runs another build of the CLI (e.g. a copy
# that later rebuilds of this tree do not touch).
set -euo pipefail
cd "$(dirname "$0")/.."
out=models/training
kdsr=(node "${KDSR_BIN:-packages/kdsr-cli/dist/bin.js}")
common=(--data ../shared/datasets/train --out "$out" --batch 16 --patch 48 --lr 2e-4
        --val ../shared/datasets/Set5/HR --val-every 200 --save-every 100 --log-every 10)
# Stage 2 ran at a constant 2e-4 up to update 13,600 (validation still rising slowly, about
# +0.1 dB per 2,000 updates), then annealed: the learning rate halves at each milestone. Validation
# was flat from update 16,600 on and the run stopped at 17,206; running this again continues at 2.5e-5.
stage2_decay=multistep:13600,15600,16600:0.5

if [ ! -f "$out/student.safetensors" ]; then
  resume=(); [ -f "$out/teacher.safetensors" ] && resume=(--resume)
  "${kdsr[@]}" train --stage 1 "${common[@]}" --n-feats 32 --n-blocks 8 --n-resblocks 3 --steps "${STAGE1_STEPS:-1200}" --lr-decay none "${resume[@]}"
  "${kdsr[@]}" train --stage 2 "${common[@]}" --steps "${STAGE2_STEPS:-200000}" --ema 0.999 --lr-decay "$stage2_decay"
else
  # Stage 2 distilled the teacher as it was when it began; the teacher is not trained further.
  "${kdsr[@]}" train --stage 2 "${common[@]}" --steps "${STAGE2_STEPS:-200000}" --ema 0.999 --lr-decay "$stage2_decay" --resume
fi
