#!/usr/bin/env python3
"""Prints per-build counts from meson's testlog.json files and one closing
line "N passed, N failed, N skipped" over all of them (plus --extra files of
"OK ..."/"FAIL ..." lines, one result per line)."""
import json
import os
import sys

def count_meson(builddir):
    path = os.path.join(builddir, 'meson-logs', 'testlog.json')
    passed = failed = skipped = 0
    failures = []
    if not os.path.exists(path):
        return 0, 1, 0, [builddir + ': no test log']
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            result = json.loads(line)['result']
            name = json.loads(line)['name']
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:
                failed += 1
                failures.append(f'{builddir}: {name} {result}')
    return passed, failed, skipped, failures

def main(argv):
    extra = []
    if '--extra' in argv:
        i = argv.index('--extra')
        extra = argv[i + 1:]
        argv = argv[:i]
    total = [0, 0, 0]
    failures = []
    for builddir in argv:
        p, f, s, fl = count_meson(builddir)
        print(f'{os.path.basename(builddir)}: {p} passed, {f} failed, {s} skipped')
        total = [total[0] + p, total[1] + f, total[2] + s]
        failures += fl
    for path in extra:
        with open(path) as fh:
            for line in fh:
                if line.startswith('OK'):
                    total[0] += 1
                elif line.startswith('FAIL'):
                    total[1] += 1
                    failures.append(line.strip())
    for line in failures:
        print('FAILED:', line)
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')

if __name__ == '__main__':
    main(sys.argv[1:])
