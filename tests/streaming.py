#!/usr/bin/env python3
"""streaming.py - calls written as they end say what a whole run says.

Usage: streaming.py --sipladder PATH --root DIR [--calls N] [--seed S]

Generates a capture with bench/gen (default 200 calls, one a second, so
most calls end long before the capture does) and runs every view twice:
with the default --max-sip-memory (the whole capture is kept, nothing is
streamed) and with --max-sip-memory 4 (kept SIP records pass 512 KB after
about 6 calls: the calls that ended are written and freed as the capture
is read, call_stream.h).  Asserts:
  * the small run did stream (capture.sip_streamed > 0) and kept every
    message (sip_not_kept == 0); the big run streamed nothing;
  * the small run also wrote more than a quarter of the connections as
    they completed (capture.connections_streamed; the RTP flows and the
    last calls' connections are still open, or not gone, at the end);
  * json: the same calls (keyed by their initial INVITE's frame; ids aside,
    since streamed calls are numbered in the order they ended), the same
    diagnoses (their call named by that frame), hosts, connections,
    registrations and loose messages; hosts and connections in any order
    (listed as first seen / as written, which streaming changes);
  * jsonl: the same call lines and head line, likewise;
  * messages: byte for byte the same;
  * summary and diagnose: the same lines once call numbers and verdict
    numbers are taken out (streamed verdicts come first), and the table's
    widths and dates (fixed once rows were written early);
  * tls: the same session blocks, in any order;
  * calls: the same call lines, numbers aside; ladder: the same rows but
    for the FIN rows of connections still open when a call was written;
  * --export-certs writes the same files and count (certificates of
    connections written early are exported as they go);
  * summary without -q says that calls were written early (with -q, and
    when nothing was streamed, it does not);
  * ladder --call finds a call written early; a call that is not there
    exits 6 (select.h: nothing matched) and the message counts every call;
  * --max-sip-memory 1 cannot hold the calls open at once: the run still
    completes and reports what it did not keep (sip_not_kept > 0).
Every difference is printed; exit 1 if any.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    print(('ok    ' if ok else 'FAIL  ') + what)
    if not ok:
        failures.append(what)


def run(sipladder, view, capture, *extra):
    cmd = [sipladder, view, '-q', *extra, capture]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        failures.append('%s exited %d: %s' % (' '.join(cmd), p.returncode, p.stderr.decode()[:500]))
    return p.stdout.decode('utf-8', 'replace')


def keyed_calls(doc_calls):
    """{initial frame: call without its id}, {id: initial frame}."""
    by_frame, frame_of = {}, {}
    for c in doc_calls:
        key = c['initial'] or (c['messages'][0] if c['messages'] else None)
        frame_of[c['id']] = key
        c = dict(c)
        del c['id']
        by_frame[key] = json.dumps(c, sort_keys=True)
    return by_frame, frame_of


def keyed_diagnoses(diags, frame_of):
    out = []
    for d in diags:
        d = dict(d)
        d['call'] = frame_of.get(d['call']) if d['call'] is not None else None
        out.append(json.dumps(d, sort_keys=True))
    return sorted(out)


def compare_docs(whole, streamed, what):
    wc, wf = keyed_calls(whole['calls'])
    sc, sf = keyed_calls(streamed['calls'])
    check(len(wc) == len(whole['calls']) and len(wc) > 0, '%s: %d calls, each with its own first frame' % (what, len(wc)))
    diff = [k for k in wc if wc[k] != sc.get(k)]
    check(not diff and len(wc) == len(sc),
          '%s: the same calls (%d vs %d; first differing: %s)' % (what, len(wc), len(sc), diff[:3]))
    wd = keyed_diagnoses(whole['diagnoses'], wf)
    sd = keyed_diagnoses(streamed['diagnoses'], sf)
    check(wd == sd, '%s: the same %d diagnoses (streamed: %d)' % (what, len(wd), len(sd)))
    # Hosts are listed in the order first seen, which streaming changes.
    check(sorted_hosts(whole) == sorted_hosts(streamed), '%s: the same hosts' % what)
    # Connections written early come first, in the order written.
    by_index = lambda doc: sorted(doc['connections'], key=lambda c: c['index'])
    check(by_index(whole) == by_index(streamed), '%s: the same connections (in any order)' % what)
    for key in ('registrations', 'messages'):
        check(whole[key] == streamed[key], '%s: the same %s' % (what, key))


def sorted_hosts(doc):
    return sorted(json.dumps(h, sort_keys=True) for h in doc['hosts'])


def numbers_out(text):
    # Rows of connections written early cannot be measured against the
    # rest: the summary table then has fixed widths and dates.
    text = re.sub(r'\bcall \d+', 'call N', text)
    text = re.sub(r'^Call \d+:', 'Call N:', text, flags=re.M)
    text = re.sub(r'^  \[\d+\]', '  [N]', text, flags=re.M)
    return re.sub(r'  +', ' ', re.sub(r'\b\d{4}-\d\d-\d\d (?=\d\d:)', '', text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sipladder', required=True)
    ap.add_argument('--root', required=True)
    ap.add_argument('--calls', type=int, default=200)
    ap.add_argument('--seed', type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, 'calls.pcap')
        subprocess.run([sys.executable, os.path.join(a.root, 'bench', 'gen'), '--seed', str(a.seed),
                        '--calls', str(a.calls), '--out', cap], check=True, stdout=subprocess.DEVNULL)
        small = ('--max-sip-memory', '4')

        whole = json.loads(run(a.sipladder, 'json', cap))
        streamed = json.loads(run(a.sipladder, 'json', cap, *small))
        check(whole['capture']['sip_streamed'] == 0, 'default memory: nothing streamed')
        check(streamed['capture']['sip_streamed'] > 0,
              '--max-sip-memory 4: %d SIP messages streamed' % streamed['capture']['sip_streamed'])
        check(streamed['capture']['sip_not_kept'] == 0, '--max-sip-memory 4: every message kept')
        check(whole['capture']['connections_streamed'] == 0 and
              streamed['capture']['connections_streamed'] > len(streamed['connections']) // 4,
              '--max-sip-memory 4: %d of %d connections written as they completed'
              % (streamed['capture']['connections_streamed'], len(streamed['connections'])))
        compare_docs(whole, streamed, 'json')

        lines_w = [json.loads(l) for l in run(a.sipladder, 'json', cap, '--format', 'jsonl').splitlines()]
        lines_s = [json.loads(l) for l in run(a.sipladder, 'json', cap, '--format', 'jsonl', *small).splitlines()]
        for head in (lines_w[0], lines_s[0]):
            head['hosts'] = sorted_hosts(head)
            del head['capture']['sip_streamed']
            del head['capture']['connections_streamed']
            head['connections'].sort(key=lambda c: c['index'])
            head['diagnoses'] = sorted(json.dumps(d, sort_keys=True) for d in head['diagnoses'])
        check(lines_w[0] == lines_s[0],
              'jsonl: the same head line (hosts, connections and verdicts in any order, what was streamed aside)')
        as_doc = lambda ls: {'calls': [l['call'] for l in ls[1:]],
                             'diagnoses': [d for l in ls[1:] for d in l['diagnoses']],
                             'hosts': [], 'connections': [], 'registrations': [], 'messages': []}
        compare_docs(as_doc(lines_w), as_doc(lines_s), 'jsonl')

        # Elements written out by a second thread (batches, and the final
        # run's arrays): the same bytes as by one, streamed or whole.
        for fmt in ('json', 'jsonl'):
            for how, extra in (('streamed', small), ('whole', ())):
                one = run(a.sipladder, 'json', cap, '--format', fmt, '--threads', '1', *extra)
                two = run(a.sipladder, 'json', cap, '--format', fmt, '--threads', '2', *extra)
                check(one == two and len(one) > 0, '%s, %s: --threads 2 writes the same %d bytes as --threads 1'
                      % (fmt, how, len(one)))

        check(run(a.sipladder, 'messages', cap) == run(a.sipladder, 'messages', cap, *small),
              'messages: the same output')
        # -v: every verdict on its own (a whole run groups alike ones that
        # batches written early cannot see together).
        for view in ('summary', 'diagnose', 'calls'):
            w = sorted(numbers_out(run(a.sipladder, view, '-v', cap)).splitlines())
            s = sorted(numbers_out(run(a.sipladder, view, '-v', cap, *small)).splitlines())
            check(w == s, '%s: the same lines, numbers aside (%d vs %d)' % (view, len(w), len(s)))
        # tls: one block per session; those of connections written early first.
        blocks = lambda t: sorted(t.strip().split('\n\n'))
        w, s = blocks(run(a.sipladder, 'tls', cap)), blocks(run(a.sipladder, 'tls', cap, *small))
        check(w == s and len(w) > 100, 'tls: the same %d sessions, in any order (streamed: %d)' % (len(w), len(s)))
        fin = re.compile(r'(?:[─\-]|[◀<]) FIN [─\-]')  # a FIN arrow of the ladder
        w = sorted(l for l in numbers_out(run(a.sipladder, 'ladder', cap)).splitlines() if not fin.search(l))
        s = sorted(l for l in numbers_out(run(a.sipladder, 'ladder', cap, *small)).splitlines() if not fin.search(l))
        check(w == s and len(w) > 1000, 'ladder: the same rows but FINs after a call was written (%d vs %d)' % (len(w), len(s)))
        fin_note = re.compile(r'^\s*Note over \S+: FIN from ')  # a FIN of the Mermaid ladder
        mermaid = lambda *extra: sorted(l for l in numbers_out(run(a.sipladder, 'ladder', cap, '--format', 'mermaid',
                                                                   *extra)).splitlines() if not fin_note.search(l))
        w, s = mermaid(), mermaid(*small)
        check(w == s and len(w) > 1000,
              'ladder --format mermaid: the same lines but FINs after a call was written (%d vs %d)' % (len(w), len(s)))

        # The TCP buffer cap hit on connections written early still counts in
        # the summary's warning (kept in the retired tally).
        cap_args = ('--max-tcp-buffer', '600')
        cap_warn = lambda *extra: [l for l in subprocess.run(
            [a.sipladder, 'summary', *cap_args, *extra, cap], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            check=False).stdout.decode().splitlines() if l.startswith('warning: TCP buffer cap')]
        capped = json.loads(run(a.sipladder, 'json', cap, *cap_args, *small))
        w, s = cap_warn(), cap_warn(*small)
        check(len(w) == 1 and w == s and capped['capture']['connections_streamed'] > 0,
              '--max-tcp-buffer 600: the same cap warning with %d connections written early: %s'
              % (capped['capture']['connections_streamed'], s[0] if s else None))

        # --export-certs: the certificates of connections written early too.
        def export(*extra):
            d = tempfile.mkdtemp(dir=tmp)
            p = subprocess.run([a.sipladder, 'summary', '-q', '--export-certs', d, *extra, cap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            counts = re.findall(rb'(\d+) certificates? written', p.stderr)
            return sorted(os.listdir(d)), int(counts[0]) if counts else 0
        (fw, nw), (fs, ns) = export(), export(*small)
        check(fw == fs and fw and nw == ns and nw,
              '--export-certs: the same %d files, %d certificates written (streamed: %d, %d)' % (len(fw), nw, len(fs), ns))

        note = 'note: the SIP messages of calls that ended (%d) were written' % streamed['capture']['sip_streamed']
        loud = lambda *extra: subprocess.run([a.sipladder, 'summary', *extra, cap], stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, check=False).stdout.decode()
        check(note in loud(*small) and 'note: the SIP messages' not in loud(),
              'summary (without -q) says when calls were written early, and only then')

        first = streamed['calls'][0]['id']
        one = run(a.sipladder, 'ladder', cap, '--call', str(first), *small)
        check(one.startswith('Call %d:' % first) and one.count('\nCall ') == 0,
              'ladder --call %d: the one call, written early' % first)
        p = subprocess.run([a.sipladder, 'ladder', '-q', '--call', '99999', *small, cap],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        check(p.returncode == 6 and b'(%d calls in the capture)' % len(whole['calls']) in p.stderr,
              'ladder --call 99999: exit 6, counting the calls written early')

        tight = json.loads(run(a.sipladder, 'json', cap, '--max-sip-memory', '1'))
        check(tight['capture']['sip_not_kept'] > 0,
              '--max-sip-memory 1: the calls open at once do not fit, %d messages reported not kept'
              % tight['capture']['sip_not_kept'])
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
