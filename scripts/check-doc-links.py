#!/usr/bin/env python3
"""Checks that every relative link in README.md and docs/*.md names an existing file (and heading anchor). Run from the repository root."""
import re, os, sys, unicodedata
def slug(h):
    h = re.sub(r'[`*]', '', h.strip().lower())
    h = ''.join(c for c in h if c.isalnum() or c in ' -_' or ord(c) > 127 and unicodedata.category(c)[0] in 'LN')
    return h.replace(' ', '-')
def anchors(path):
    out=set(); fence=False
    for line in open(path):
        if line.startswith('```'): fence = not fence
        if not fence and line.startswith('#'): out.add(slug(line.lstrip('#')))
        if not fence: out.update(re.findall(r'<a id="([^"]+)"></a>', line))  # an anchor on a paragraph
    return out
bad=0; n=0
files=['README.md']+['docs/'+f for f in os.listdir('docs') if f.endswith('.md')]
for f in files:
    text=open(f).read()
    for m in re.finditer(r'\]\(([^)\s]+)\)', text):
        t=m.group(1); n+=1
        if re.match(r'[a-z]+:', t): print(f, 'EXTERNAL', t); bad+=1; continue
        p, _, a = t.partition('#')
        target = os.path.normpath(os.path.join(os.path.dirname(f), p)) if p else f
        if not os.path.exists(target): print(f, 'MISSING', t); bad+=1; continue
        if a and target.endswith('.md') and a not in anchors(target): print(f, 'NO ANCHOR', t, sorted(anchors(target))); bad+=1
print(n, 'links,', bad, 'bad'); sys.exit(1 if bad else 0)
