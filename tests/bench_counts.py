#!/usr/bin/env python3
"""bench_counts.py - sipladder finds exactly what bench/gen put in a capture.

Usage:
  bench_counts.py --sipladder PATH [--root DIR] [--calls N] [--seed S]
  bench_counts.py --sipladder PATH --capture FILE --counts FILE.json

Generates a capture with bench/gen (default 50 calls) into a temporary
directory (or takes --capture/--counts, e.g. bench/out/bench-80M.pcap), runs
sipladder on it and compares with the generator's intended counts:
  * SIP requests by method and responses by status code, and their total,
    from `sipladder messages` (one line per message);
  * TLS handshakes (sessions), fatal alerts by name and certificates sent,
    from `sipladder tls`;
  * TCP connections (summary rows with l4 tcp);
  * and, when the binary has the json view, all of these again from
    `sipladder json` (messages[], connections[].tls), with the calls and
    their outcomes (answered, rejected <status>, cancelled): a response
    must reach its transaction (Via branch) for its call to end.
Every difference is printed; exit 1 if any.  When generating, also checks
that bench/gen is deterministic: two runs with the same seed give the same
bytes (sha256) and a different seed gives different bytes.
"""

import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

MSG = re.compile(r'^\s*\d+ \S+ \S+ \S+ -> \S+ (?:TCP|UDP|TLS) (\S+) (\S+)')
ALERT = re.compile(r'\bAlert\s+from \S+: fatal (\w+) \(\d+\)')
SENT = re.compile(r'^\s+certificates from \S+ \(frame \d+, (\d+) sent\)')
SUMMARY_ROW = re.compile(r'^\d+\s+(tcp|udp)\s')


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, LC_ALL='C', TZ='UTC', NO_COLOR='1'))
    if p.returncode != 0 or p.stderr.strip():
        sys.exit('%s: exit %d\n%s' % (' '.join(cmd), p.returncode, p.stderr.decode(errors='replace')))
    return p.stdout.decode(errors='replace')


def found(sipladder, capture):
    methods, statuses = collections.Counter(), collections.Counter()
    total = 0
    for line in run([sipladder, 'messages', '-q', capture]).splitlines():
        m = MSG.match(line)
        if not m:
            if line.startswith('warning:'):
                print('sipladder messages: ' + line)
            continue
        total += 1
        if m.group(1) == 'SIP/2.0':
            statuses[m.group(2)] += 1
        else:
            methods[m.group(1)] += 1
    tls = run([sipladder, 'tls', '-q', capture]).splitlines()
    alerts = collections.Counter(a.group(1) for a in map(ALERT.search, tls) if a)
    certs = sum(int(s.group(1)) for s in map(SENT.match, tls) if s)
    handshakes = sum(1 for line in tls if line.startswith('TLS '))
    rows = [m.group(1) for m in map(SUMMARY_ROW.match,
                                    run([sipladder, 'summary', '-q', capture]).splitlines()) if m]
    return {'sip_messages': total, 'sip_methods': dict(methods),
            'sip_statuses': dict(statuses), 'tls_handshakes': handshakes,
            'tls_alerts': dict(alerts), 'tls_certificates': certs,
            'tcp_connections': rows.count('tcp')}


def has_json(sipladder):
    return any(line.startswith('  json ') for line in run([sipladder, '--help']).splitlines())


def found_json(sipladder, capture):
    """The same counts read from the json view: one document, other code."""
    d = json.loads(run([sipladder, 'json', '-q', capture]))
    methods, statuses = collections.Counter(), collections.Counter()
    # Messages of a call or registration are in it; the rest at top level.
    msgs = list(d['messages'])
    for group in ('calls', 'registrations'):
        for c in d.get(group) or []:
            msgs += [m for m in c.get('messages') or [] if isinstance(m, dict)]
    for m in msgs:
        if m.get('method'):
            methods[m['method']] += 1
        else:
            statuses[str(m['status'])] += 1
    alerts, certs, handshakes, tcp = collections.Counter(), 0, 0, 0
    for c in d['connections']:
        tcp += c['transport'] == 'tcp'
        t = c.get('tls')
        if not t:
            continue
        handshakes += 1
        for a in t.get('alerts') or []:
            if a['level'] == 'fatal' and not a['encrypted']:
                alerts[a['description']] += 1
        for side in (t.get('certificates') or {}).values():
            if side:
                certs += side['sent']
    outcomes = collections.Counter(
        c['outcome'] + (' %d' % c['final_status'] if c['outcome'] == 'rejected' else '') for c in d['calls'])
    return {'sip_messages': len(msgs), 'sip_methods': dict(methods),
            'sip_statuses': dict(statuses), 'tls_handshakes': handshakes,
            'tls_alerts': dict(alerts), 'tls_certificates': certs, 'tcp_connections': tcp,
            'calls': len(d['calls']), 'call_outcomes': dict(outcomes)}


def check(want, sipladder, capture):
    bad = compare(want, found(sipladder, capture))
    if has_json(sipladder):
        print('-- from the json view')
        bad += compare(want, found_json(sipladder, capture))
    return bad


def compare(want, got):
    bad = 0
    for key, value in got.items():
        if want[key] != value:
            print('MISMATCH %s: bench/gen intended %s, sipladder found %s'
                  % (key, json.dumps(want[key], sort_keys=True), json.dumps(value, sort_keys=True)))
            bad += 1
        else:
            print('ok %s: %s' % (key, json.dumps(value, sort_keys=True)))
    return bad


def gen(root, seed, calls, out):
    counts = out + '.json'
    subprocess.run([sys.executable, os.path.join(root, 'bench', 'gen'), '--seed', str(seed),
                    '--calls', str(calls), '--out', out, '--counts', counts], check=True)
    with open(out, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(counts) as f:
        return digest, json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sipladder', default=os.environ.get('SIPLADDER'))
    ap.add_argument('--root', default=os.environ.get('SL_SOURCE_ROOT',
                                                     os.path.join(os.path.dirname(__file__), '..')))
    ap.add_argument('--calls', type=int, default=50)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--capture')
    ap.add_argument('--counts')
    a = ap.parse_args()
    if not a.sipladder:
        ap.error('--sipladder is required')
    bad = 0
    if a.capture:
        capture = a.capture
        with open(a.counts or capture + '.counts.json') as f:
            want = json.load(f)
        bad += check(want, a.sipladder, capture)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            capture = os.path.join(tmp, 'a.pcap')
            d1, want = gen(a.root, a.seed, a.calls, capture)
            d2, want2 = gen(a.root, a.seed, a.calls, os.path.join(tmp, 'b.pcap'))
            d3, _ = gen(a.root, a.seed + 1, a.calls, os.path.join(tmp, 'c.pcap'))
            if d1 != d2 or want != want2:
                print('MISMATCH bench/gen is not deterministic: %s != %s' % (d1, d2))
                bad += 1
            elif d1 == d3:
                print('MISMATCH bench/gen ignores --seed: seeds %d and %d give %s'
                      % (a.seed, a.seed + 1, d1))
                bad += 1
            else:
                print('ok bench/gen deterministic: sha256 %s' % d1)
            # The capture must exercise what it claims to, or the test
            # proves nothing.
            need = {'INVITE', 'ACK', 'BYE', 'CANCEL'} - set(want['sip_methods'])
            need |= {'100', '180', '200', '487'} - set(want['sip_statuses'])
            need |= {'unknown_ca'} - set(want['tls_alerts'])
            if need or want['tls_certificates'] == 0 or want['tcp_rsts'] == 0:
                print('MISMATCH the generated capture lacks %s' % sorted(need))
                bad += 1
            bad += check(want, a.sipladder, capture)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
