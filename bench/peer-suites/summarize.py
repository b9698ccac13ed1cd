#!/usr/bin/env python3
"""Reads JUnit XML from a client's own test suite (pytest --junitxml) and prints
passed/total per engine, tug's passes as a share of the reference engine's, and
tug's failures grouped by cause: network tests apart from the rest, then by
test class and the failure's first line with ids and numbers blanked out, so
one defect that fails ten tests reads as one group of ten."""
import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict


def load(path):
    """{test id: (outcome, first line of the failure)} from a JUnit XML file.
    An xpass counts as passed and an xfail as skipped, as JUnit XML records them."""
    out = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        sys.exit(f'no results in {path}: {e} (see the pytest log beside it)')
    for case in root.iter('testcase'):
        tid = f"{case.get('classname')}::{case.get('name')}"
        outcome, line = 'passed', ''
        for child in case:
            if child.tag in ('failure', 'error'):
                outcome = 'failed' if child.tag == 'failure' else 'error'
                text = (child.get('message') or child.text or '').strip()
                line = text.splitlines()[0] if text else child.tag
                break
            if child.tag == 'skipped':
                outcome = 'skipped'
                line = (child.get('message') or '').strip().splitlines()[0] if child.get('message') else ''
        # A test whose teardown also fails appears twice (pytest's xunit2):
        # it failed, and the body's failure, the first one, names the cause.
        if out.get(tid, ('passed',))[0] not in ('failed', 'error'):
            out[tid] = (outcome, line)
    return out


def counts(results):
    passed = sum(1 for o, _ in results.values() if o == 'passed')
    skipped = sum(1 for o, _ in results.values() if o == 'skipped')
    return passed, len(results) - skipped, skipped


def normalize(line):
    line = re.sub(r'[0-9a-f]{12,64}', '<id>', line)
    line = re.sub(r'\b\d+(\.\d+)?\b', 'N', line)
    line = re.sub(r"'[a-z]+_[a-z0-9_]+'", "'<name>'", line)  # generated names
    return line[:160]


def pct(a, b):
    return f'{100 * a / b:.0f}%' if b else 'n/a'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tug', required=True, help='JUnit XML of the run against tug')
    ap.add_argument('--docker', help='JUnit XML of the same files against the reference engine')
    ap.add_argument('--network-files', default='', help='comma-separated test modules counted as network tests')
    ap.add_argument('--not-runnable', default='',
                    help='comma-separated test names that cannot run on this machine: reported apart, not counted')
    args = ap.parse_args()
    set_aside = {n for n in args.not_runnable.split(',') if n}
    net_mods = [m for m in args.network_files.split(',') if m]

    def is_net(tid):
        cls, name = tid.split('::', 1)
        return any(f'.{m}.' in f'.{cls}.' for m in net_mods) or (bool(net_mods) and 'network' in name.lower())

    tug = load(args.tug)
    ref = load(args.docker) if args.docker else None
    aside = {k: v for k, v in tug.items() if k.split('::')[1] in set_aside}
    tug = {k: v for k, v in tug.items() if k not in aside}
    p, t, s = counts(tug)
    print(f'tug:     {p}/{t} passed ({pct(p, t)}), {s} skipped' + (' (runnable tests)' if set_aside else ''))
    for k, (o, line) in sorted(aside.items()):
        print(f'    not runnable here, not counted: {k}: {o} {line[:100]}')
    if ref is not None:
        rp, rt, rs = counts(ref)
        print(f'dockerd: {rp}/{rt} passed ({pct(rp, rt)}), {rs} skipped')
        ref_pass = {k for k, (o, _) in ref.items() if o == 'passed'}
        both = {k for k in ref_pass if tug.get(k, ('',))[0] == 'passed'}
        print(f'tug passes / dockerd passes: {p}/{rp} = {pct(p, rp)}; '
              f'of the tests dockerd passes, tug passes {len(both)}/{len(ref_pass)} = {pct(len(both), len(ref_pass))}')
        if net_mods:
            rp_nn = {k for k in ref_pass if not is_net(k)}
            both_nn = {k for k in rp_nn if k in both}
            tp_nn = sum(1 for k, (o, _) in tug.items() if o == 'passed' and not is_net(k))
            print(f'without network tests: tug {tp_nn}, dockerd {len(rp_nn)}; of the tests dockerd passes, '
                  f'tug passes {len(both_nn)}/{len(rp_nn)} = {pct(len(both_nn), len(rp_nn))}')
        only_tug = sorted(k for k, (o, _) in tug.items() if o == 'passed' and ref.get(k, ('',))[0] != 'passed')
        if only_tug:
            print(f'passing on tug but not on dockerd: {len(only_tug)}')
            for k in only_tug:
                print(f'    {k}  [dockerd: {ref.get(k, ("absent", ""))[0]}: {ref.get(k, ("", ""))[1][:100]}]')

    # tug's failures; with a reference, only those that pass there (the rest fail on both).
    fails = {k: v for k, v in tug.items() if v[0] in ('failed', 'error')}
    both_fail = {}
    if ref is not None:
        both_fail = {k: v for k, v in fails.items() if ref.get(k, ('',))[0] != 'passed'}
        fails = {k: v for k, v in fails.items() if k not in both_fail}
    sections = defaultdict(lambda: defaultdict(list))
    for k, (_, line) in fails.items():
        sec = 'network tests' if net_mods and is_net(k) else 'other tests'
        cls = k.split('::')[0].rsplit('.', 1)[-1]
        sections[sec][(cls, normalize(line))].append(k.split('::')[1])
    for sec in sorted(sections, key=lambda s: s != 'network tests'):
        groups = sections[sec]
        n = sum(len(v) for v in groups.values())
        print(f'\ntug failures, {sec}: {n}' + (' (each passes on dockerd)' if ref is not None else ''))
        for (cls, line), names in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print(f'  {len(names):3d}  {cls}: {line}')
            print(f'       {", ".join(sorted(names))}')
    if both_fail:
        print(f'\nfailing on both engines (not counted against tug): {len(both_fail)}')
        for k, (_, line) in sorted(both_fail.items()):
            print(f'    {k}: {line[:120]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
