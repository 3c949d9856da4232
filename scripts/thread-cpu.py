#!/usr/bin/env python3
# CPU seconds of a shadowsync run by process and by thread group (JIT compilers, gRPC transport, workers, sync, GC...),
# over the whole run and inside the training window (from the first worker thread's appearance to its last CPU tick):
#   scripts/thread-cpu.py PID             samples /proc every 0.25 s until PID exits; counts PID and the java processes
#                                         it started (a launch's servers and trainers). Linux only.
import os, sys, time, re, collections
root_pid = int(sys.argv[1])
hz = os.sysconf('SC_CLK_TCK')
series = []  # (t, {(pid,tid): (role, comm, ticks)})
roles = {}
def role(pid):
    if pid in roles: return roles[pid]
    try: cl = open(f'/proc/{pid}/cmdline','rb').read().replace(b'\0', b' ').decode()
    except Exception: return None
    if not cl: return None
    if 'shadowsync' not in cl: return None  # not yet exec'd (jspawnhelper), or not ours
    m = re.search(r'Main (ps --shard \d|trainer --rank \d)', cl)
    r = m.group(1) if m else ('launcher' if ' launch ' in cl else 'train' if ' train ' in cl else 'other')
    roles[pid] = r; return r
def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p)
        try:
            for t in os.listdir(f'/proc/{p}/task'):
                todo.extend(int(c) for c in open(f'/proc/{p}/task/{t}/children').read().split())
        except Exception: pass
    return out
while os.path.exists(f'/proc/{root_pid}'):
    snap = {}
    for pid in tree(root_pid):
        r = role(pid)
        if not r: continue
        try: tids = os.listdir(f'/proc/{pid}/task')
        except Exception: continue
        for t in tids:
            try:
                s = open(f'/proc/{pid}/task/{t}/stat').read()
                comm = s[s.index('(')+1:s.rindex(')')]
                f = s[s.rindex(')')+2:].split()
                snap[(pid, int(t))] = (r, comm, int(f[11]) + int(f[12]))
            except Exception: pass
    series.append((time.time(), snap))
    time.sleep(0.25)
def group(c):
    if c.startswith('grpc-default-wo') or 'ELG' in c: return 'grpc transport'
    if c.startswith('C2 ') or c.startswith('C1 '): return c[:2] + ' JIT'
    if c.startswith('GC Thread') or c.startswith('VM Thread') or 'G1' in c or 'ParGC' in c: return 'GC/VM'
    c = re.sub(r'\d+', '#', c)
    if c == 'java': return 'main'
    return c
last = {}
for t, snap in series: last.update(snap)
# training window: first sample where a worker thread exists .. last sample where some worker's ticks changed
start = end = None; prev = {}
for t, snap in series:
    w = {k: v[2] for k, v in snap.items() if '/worke' in v[1]}
    if w and start is None: start = t
    if any(prev.get(k) != v for k, v in w.items()): end = t
    prev.update(w)
def at(tt):
    acc = {}
    for t, snap in series:
        if t > tt: break
        acc.update(snap)
    return acc
def report(label, a, b):
    tot = collections.defaultdict(lambda: collections.defaultdict(float))
    for k, (r, comm, ticks) in b.items():
        tot[r][group(comm)] += (ticks - (a[k][2] if k in a else 0)) / hz
    grand = collections.defaultdict(float)
    print(label)
    for r in sorted(tot):
        s = sum(tot[r].values())
        print(f'  {r}: {s:.1f} s CPU: ' + ', '.join(f'{g} {v:.1f}' for g, v in sorted(tot[r].items(), key=lambda x: -x[1]) if v >= 0.1))
        for g, v in tot[r].items(): grand[g] += v
    print('  ALL: %.1f s CPU: ' % sum(grand.values()) + ', '.join(f'{g} {v:.1f}' for g, v in sorted(grand.items(), key=lambda x: -x[1]) if v >= 0.1))
report('whole run (%.1f s wall)' % (series[-1][0] - series[0][0]), {}, last)
if start:
    report('training window (%.1f s wall, first to last worker tick)' % (end - start), at(start), at(end))
