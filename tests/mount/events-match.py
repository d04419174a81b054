#!/usr/bin/env python3
"""The container create and destroy lines of an events file against the engine's own stream of
the same events (case-burst.sh):

    events-match.py WITNESS-JSON EVENTS-LOG PREFIX COUNT

WITNESS-JSON: GET /events output (one JSON object a line); EVENTS-LOG: what `cat events` read.
Only containers named PREFIX<number> count; the witness must hold COUNT creates and COUNT
destroys. Checks that every line came once, at the engine's time of its event (to the
microsecond: the time is a double on the way), and each container's create before its destroy.

The engine publishes each event to every stream on its own (Docker sends to each subscriber
from a goroutine of its own), so two streams may order events of the same moment differently:
how far the events file's order differs from the witness's is said, not judged.
"""
import datetime
import json
import re
import sys

witness, evlog, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def ours(name):
    return name.startswith(prefix) and name[len(prefix):].isdigit()


want = []
for line in open(witness):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    name = e.get("Actor", {}).get("Attributes", {}).get("name", "")
    # Podman's stream says "remove" where Docker's says "destroy" (the events file: destroy).
    action = {"remove": "destroy"}.get(e.get("Action"), e.get("Action"))
    if ours(name) and action in ("create", "destroy"):
        want.append((name, action, e["timeNano"] // 1000))

got = []
rx = re.compile(r"(\S+)\.(\d{9})Z container (\S+) (create|destroy)$")
for line in open(evlog):
    m = rx.match(line.strip())
    if m and ours(m.group(3)):
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        secs = int(t.replace(tzinfo=datetime.timezone.utc).timestamp())
        got.append((m.group(3), m.group(4), secs * 10**6 + int(m.group(2)) // 1000))

bad = []
if len(want) != 2 * count:
    bad.append(f"the engine's stream has {len(want)} lines, want {2 * count}")


def key(x):
    return (x[0], x[1])


wanted = set(map(key, want))
if sorted(map(key, want)) != sorted(map(key, got)):
    missing = sorted(wanted - set(map(key, got)))
    extra = [k for k in map(key, got) if k not in wanted]
    bad.append(f"{len(got)} lines, want {len(want)}; missing {missing[:5]}, extra {extra[:5]}")
times = {key(w): w[2] for w in want}
off = [g for g in got if key(g) in times and abs(times[key(g)] - g[2]) > 1]
if off:
    bad.append(f"lines not at the engine's time: {off[:5]}")
seen = set()
for name, action, _ in got:
    if action == "destroy" and name not in seen:
        bad.append(f"{name}: destroy before create")
    seen.add(name)
pos = {key(w): i for i, w in enumerate(want)}
order = [pos[key(g)] for g in got if key(g) in pos]
swapped = sum(1 for a, b in zip(order, order[1:]) if a > b)
print(f"{len(got)} lines; {swapped} neighbours in another order than in the witness's stream")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
