#!/usr/bin/env python3
# A dense binary-classification CSV for the MLP benchmarks: a header "label,x0..x{F-1}", then ROWS rows of
# F standard-normal features (4 decimals) and label = [w·x + 0.5·noise > 0] for a seeded linear teacher w.
#   scripts/dense-csv.py OUT [ROWS=60000] [FEATURES=32] [SEED=7]
import random, sys
out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
features = int(sys.argv[3]) if len(sys.argv) > 3 else 32
rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
w = [rnd.gauss(0, 1) for _ in range(features)]
with open(out, 'w') as f:
    f.write('label,' + ','.join(f'x{j}' for j in range(features)) + '\n')
    for _ in range(rows):
        x = [rnd.gauss(0, 1) for _ in range(features)]
        s = sum(a * b for a, b in zip(w, x)) + 0.5 * rnd.gauss(0, 1)
        f.write(('1' if s > 0 else '0') + ',' + ','.join(f'{v:.4f}' for v in x) + '\n')
