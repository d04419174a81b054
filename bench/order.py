#!/usr/bin/env python3
"""The burst's order (bench/run.sh, target 9): how cat events' lines compare with docker events'.

    order.py WANT GOT [WANT2]

WANT and WANT2: the "ACTION NAME" lines two `docker events` readers gave; GOT: the same lines
from cat events. Prints five numbers: WANT's lines, GOT's lines, 1 when GOT is complete (the
same lines as WANT, each once) with each container's lines in WANT's order (else 0), and how
many of GOT's and of WANT2's lines are out of WANT's order (the fewest lines to move to get
WANT's order: the length less the longest run of lines in WANT's relative order).

Concurrent events of different containers reach two subscribers of one dockerd in different
orders, so the last two numbers are compared with each other, not with zero.
"""
import bisect
import sys
from collections import Counter, defaultdict


def lines(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def per_container(seq):
    d = defaultdict(list)
    for l in seq:
        action, _, name = l.partition(" ")
        d[name].append(action)
    return d


def moved(want, got):
    """len(got) less the longest subsequence of got in want's order (want's lines unique)."""
    pos = {l: i for i, l in enumerate(want)}
    tails = []
    known = 0
    for l in got:
        if l not in pos:
            continue
        known += 1
        k = bisect.bisect_left(tails, pos[l])
        if k == len(tails):
            tails.append(pos[l])
        else:
            tails[k] = pos[l]
    return len(got) - len(tails) if known else len(got)


def main():
    want, got = lines(sys.argv[1]), lines(sys.argv[2])
    want2 = lines(sys.argv[3]) if len(sys.argv) > 3 else want
    ordered = Counter(want) == Counter(got) and len(set(want)) == len(want) and \
        per_container(want) == per_container(got)
    print(len(want), len(got), 1 if ordered else 0, moved(want, got), moved(want, want2))


if __name__ == "__main__":
    main()
