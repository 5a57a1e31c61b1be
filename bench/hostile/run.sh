#!/bin/sh
# run.sh - sipladder under the hostile captures of make_hostile.py (issue 7,
# item 3): every run must complete, and peak memory stay under the bound
# documented in sipladder(1), CAPS (256 MB).
#
# Usage: bench/hostile/run.sh [SIPLADDER [WORKDIR]]
#   SIPLADDER defaults to build/sipladder, WORKDIR to a scratch directory
#   (the captures take about 1.2 GB; kept when WORKDIR is given).
# Prints one line per capture: wall time, peak RSS, exit status; exits 1 if
# a run failed or went over the bound.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-build/sipladder}
bound_kb=$((256 * 1024))
if [ $# -ge 2 ]; then
    work=$2
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
[ -x "$bin" ] || { echo "run.sh: $bin is not executable" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
for f in half-open gap-stream fragments; do
    [ -s "$work/$f.pcap" ] || python3 "$here/make_hostile.py" "$work" --only "$f"
done
status=0
printf '%-12s %10s %12s %5s  %s\n' capture wall_s peak_rss_MB exit "cap warnings"
for f in half-open gap-stream fragments; do
    rc=0
    /usr/bin/time -v "$bin" summary -q "$work/$f.pcap" >"$work/$f.out" 2>"$work/$f.time" || rc=$?
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$f.time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$f.time")
    warns=$(grep -c '^warning:' "$work/$f.out" || true)
    printf '%-12s %10s %12s %5s  %s\n' "$f" "$wall" "$((rss / 1024))" "$rc" "$warns"
    if [ "$rc" -ne 0 ] || [ "$rss" -gt "$bound_kb" ] || [ "$warns" -eq 0 ]; then
        status=1
    fi
done
exit $status
