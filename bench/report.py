#!/usr/bin/env python3
"""The report of bench/run.sh: medians, ratios and the issue's targets (met or missed).

    report.py SAMPLES.csv META.env OUT.csv OUT.md

(bench/run.sh keeps SAMPLES.csv and META.env in bench/results/ as <time>-samples.csv and
<time>-meta.env, so a report can be made again from them.)

SAMPLES.csv has one row per run: case,n,ops,run,value,unit (seconds for timings, with ops the
number of operations the run did, so that value/ops is the time of one). OUT.csv gets one row per
measured case (kind=measure) and one per target check (kind=target); OUT.md a markdown table for
the README; the same table goes to stdout.
"""
import csv
import statistics
import sys
from collections import defaultdict

# case -> (tool, what was run)
CASES = {
    "t1.cat": ("cutipfs", "cat containers/*/status"),
    "t1.ps": ("docker", "docker ps -a --format '{{.Names}} {{.State}}'"),
    "t1.inspect_each": ("docker", "docker inspect NAME, once per container"),
    "t1.api": ("api", "curl GET /containers/json?all=1"),
    "t1.count": ("engine", "containers in the engine during target 1"),
    "t2.cat": ("cutipfs", "cat status, in a shell loop"),
    "t2.readloop": ("cutipfs", "open/read/close status in one process (bench/readloop.c)"),
    "t2.inspect": ("docker", "docker inspect -f '{{.State.Status}}', in a shell loop"),
    "t2.curl": ("api", "curl GET /containers/NAME/json, in a shell loop"),
    "t2.httploop": ("api", "GET /containers/NAME/json in one process, keep-alive (bench/httploop.c)"),
    "t2.cat_local": ("local", "cat of a local copy of status, in a shell loop (the floor)"),
    "t2.readloop_local": ("local", "readloop of a local copy of status (the floor)"),
    "t1.cat_floor": ("floor", "cat */status of as many files in bench/floorfs (the floor of FUSE)"),
    "t2.readloop_floor": ("floor", "readloop of a status in bench/floorfs (the floor of FUSE)"),
    "t3.ls": ("cutipfs", "ls -l containers, back to back"),
    "t3.ls_cold": ("cutipfs", "ls -l containers, list cache expired"),
    "t3.ps": ("docker", "docker ps -a"),
    "t3.req_cold": ("cutipfs", "engine requests per ls -l, list cache expired"),
    "t3.req_warm": ("cutipfs", "engine requests per ls -l, right after another"),
    "t4.docker": ("docker", "docker run -d, N times"),
    "t4.api": ("api", "curl POST create + start, N times"),
    "t4.cp_each": ("cutipfs", "cp of one card, N times, until all say running"),
    "t4.cp_all": ("cutipfs", "one cp of N cards, until all say running"),
    "t4.cp_each.req": ("cutipfs", "engine requests of the N cps (per_op: per container)"),
    "t4.cp_all.req": ("cutipfs", "engine requests of the one cp (per_op: per container)"),
    "t4.cp_each.cpu": ("cutipfs", "daemon CPU time during cp x N (per_op: per container)"),
    "t4.cp_all.cpu": ("cutipfs", "daemon CPU time during the one cp (per_op: per container)"),
    "t5.cat": ("cutipfs", "cat containers/NAME/logs"),
    "t5.docker": ("docker", "docker logs NAME"),
    "t5.curl": ("api", "curl GET /containers/NAME/logs"),
    "t5.hwm": ("cutipfs", "daemon VmHWM after the logs runs"),
    "t6.rss": ("cutipfs", "daemon VmRSS"),
    "t6.hwm": ("cutipfs", "daemon VmHWM (peak)"),
    "t7.listing": ("cutipfs", "from starting the daemon to a complete ls containers"),
    "t8.req": ("cutipfs", "engine requests for the event lines of outside changes (ops: lines)"),
    "t9.want": ("docker", "create and destroy lines docker events gave for the burst"),
    "t9.got": ("cutipfs", "create and destroy lines cat events gave for the burst"),
    "t9.ordered": ("cutipfs", "1 when complete, each container's lines in the engine's order"),
    "t9.moved": ("cutipfs", "lines out of the first docker events reader's order"),
    "t9.moved_docker": ("docker", "lines of a second docker events reader out of the first's order"),
    "t9.time": ("cutipfs", "from the first create to the last destroy line"),
}


def nkey(n):
    try:
        return (0, int(n))
    except ValueError:
        return (1, n)


def fmt_s(s):
    if s is None:
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_mib(kib):
    return f"{kib / 1024:.1f} MiB"


def slower(r):
    """cutipfs time / other time, in words."""
    if r is None:
        return "n/a"
    if r <= 1:
        return f"{1 / r:.{2 if r > 0.5 else 1}f}× faster" if r > 0 else "faster"
    return f"{r:.{2 if r < 2 else 1}f}× slower"


def main():
    samples_path, meta_path, out_csv, out_md = sys.argv[1:5]
    meta = {}
    with open(meta_path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v

    runs = defaultdict(list)  # (case, n) -> [(value, ops, unit)]
    with open(samples_path) as f:
        for row in csv.DictReader(f):
            runs[(row["case"], row["n"])].append((float(row["value"]), int(row["ops"]), row["unit"]))

    def med(case, n):
        v = runs.get((case, str(n)))
        return statistics.median(x[0] for x in v) if v else None

    def per_op(case, n):
        v = runs.get((case, str(n)))
        return statistics.median(x[0] for x in v) / v[0][1] if v else None

    def values(case, n):
        return [x[0] for x in runs.get((case, str(n)), [])]

    ns = sorted({n for (c, n) in runs if c.startswith("t4.")}, key=nkey)
    iters = meta.get("iter", "1000")
    rows = []  # markdown rows
    checks = []  # (target, n, what, ratio or value, goal, met)

    def check(target, n, what, value, goal, met):
        checks.append((target, n, what, value, goal, met))
        return "met" if met else "**missed**"

    # 1. the state of all containers
    for n in sorted({n for (c, n) in runs if c == "t1.cat"}, key=nkey):
        cat, ps = med("t1.cat", n), med("t1.ps", n)
        if cat is None or ps is None:
            continue
        r = cat / ps
        count = int(med("t1.count", n) or 0)
        cat_floor = med("t1.cat_floor", n)
        rows.append([
            "1", f"state of every container ({count} in the engine)", n,
            f"`cat containers/*/status` {fmt_s(cat)}"
            + (f" (the floor, `cat */status` of {n} files in bench/floorfs: "
               f"{fmt_s(cat_floor)}, {cat_floor / ps:.2f}× `docker ps`)" if cat_floor else ""),
            f"`docker ps -a --format` {fmt_s(ps)}"
            + (f"; `docker inspect` ×{n} {fmt_s(med('t1.inspect_each', n))}" if med("t1.inspect_each", n) else ""),
            f"`GET /containers/json` {fmt_s(med('t1.api', n))}",
            f"{slower(r)} than `docker ps` ({r:.2f}×)",
            # The issue sets this target up to 500 containers; at 2,000 its targets are the
            # listing's (3), memory (6) and start-up (7).
            *(["at most half of `docker ps`",
               check(1, n, "cat containers/*/status / docker ps -a", r, "<= 0.5", r <= 0.5)]
              if nkey(n) <= (0, 500) else ["counted", ""]),
        ])

    # 2. one status read
    cat, rl = per_op("t2.cat", 1), per_op("t2.readloop", 1)
    ins, cu, hl = per_op("t2.inspect", 1), per_op("t2.curl", 1), per_op("t2.httploop", 1)
    floor = per_op("t2.readloop_local", 1)
    fuse_floor = per_op("t2.readloop_floor", 1)
    if None not in (cat, rl, ins, floor):
        a = check(2, 1, "docker inspect loop / readloop (per read)", ins / rl, ">= 1000",
                  ins / rl >= 1000)
        b = check(2, 1, "readloop / readloop of a local file (per read)", rl / floor, "<= 3",
                  rl / floor <= 3)
        rows.append([
            "2", f"one container's state, per read ({iters} reads)", "1 container",
            f"`cat status` loop {fmt_s(cat)}; readloop {fmt_s(rl)}",
            f"`docker inspect -f` loop {fmt_s(ins)}",
            f"curl loop {fmt_s(cu)}; httploop (keep-alive) {fmt_s(hl)}",
            f"cat {ins / cat:.0f}×, readloop {ins / rl:.0f}× faster than `docker inspect`"
            + (f"; readloop {slower(rl / hl)} than httploop" if hl else "")
            + (f" (floor, a local file: cat {fmt_s(per_op('t2.cat_local', 1))}, readloop "
               f"{fmt_s(per_op('t2.readloop_local', 1))})" if per_op("t2.cat_local", 1) else "")
            + (f"; the floor of FUSE (bench/floorfs): readloop {fmt_s(fuse_floor)}, "
               f"{fuse_floor / floor:.1f}× a local file, {ins / fuse_floor:.0f}× faster than "
               "`docker inspect`" if fuse_floor else ""),
            "readloop ≥ 1000× faster than `docker inspect`, within 3× of a local file"
            f" (here {rl / floor:.1f}×)",
            f"vs inspect: {a}; vs a local file: {b}",
        ])

    # 3. ls -l containers
    for n in sorted({n for (c, n) in runs if c == "t3.ls"}, key=nkey):
        ls, ps = med("t3.ls", n), med("t3.ps", n)
        cold = values("t3.req_cold", n)
        warm = values("t3.req_warm", n)
        if ls is None or not cold:
            continue
        worst = max(cold + warm)
        rows.append([
            "3", "`ls -l containers`: engine requests, time", n,
            f"{int(statistics.median(cold))} request{'s' if statistics.median(cold) != 1 else ''} "
            f"(max {int(max(cold))}; {int(max(warm))} right after another ls), "
            f"{fmt_s(ls)} (caches expired: {fmt_s(med('t3.ls_cold', n))})",
            f"`docker ps -a` {fmt_s(ps)}",
            "",
            f"{slower(ls / ps)} than `docker ps -a`",
            "one engine request per listing, no slower than `docker ps -a`",
            check(3, n, "engine requests per ls -l (max over runs)", worst, "<= 1", worst <= 1)
            + "; " + check(3, n, "ls -l containers / docker ps -a", ls / ps, "<= 1", ls / ps <= 1),
        ])

    # 4. starting N
    for n in ns:
        dk, al, ce = med("t4.docker", n), med("t4.cp_all", n), med("t4.cp_each", n)
        if None in (dk, al):
            continue
        goal = 0.8 if nkey(n) >= (0, 100) else 1
        a = check(4, n, "one cp of N cards / docker run loop", al / dk, f"<= {goal}", al / dk <= goal)
        b = (check(4, n, "cp per card / docker run loop", ce / dk, "<= 1", ce / dk <= 1)
             if ce is not None else "not run")
        req, cpu = per_op("t4.cp_all.req", n), per_op("t4.cp_all.cpu", n)
        c = (check(4, n, "engine requests per start (one cp; 0.05 for periodic lists)", req, "<= 3.05", req <= 3.05)
             if req is not None else "n/a")
        cost = (f" ({req:.1f} engine requests, {cpu:.1f} ms of daemon CPU per container)"
                if req is not None and cpu is not None else "")
        rows.append([
            "4", "start N containers", n,
            f"one `cp` of {n} cards {fmt_s(al)}" + (f"; `cp` ×{n} {fmt_s(ce)}" if ce else "") + cost,
            f"`docker run -d` ×{n} {fmt_s(dk)}",
            f"curl create+start ×{n} {fmt_s(med('t4.api', n))}",
            f"one cp {al / dk:.2f}×" + (f", cp ×N {ce / dk:.2f}×" if ce else "") + " the `docker run` loop's time",
            f"one cp ≤ {goal}×, cp ×N ≤ 1× the `docker run` loop; 3 requests per start",
            f"one cp: {a}; cp ×N: {b}; requests: {c}",
        ])

    # 5. logs
    c5, d5 = med("t5.cat", "logs"), med("t5.docker", "logs")
    if c5 is not None and d5 is not None:
        mib = int(meta.get("log_bytes", "52428800")) / 2**20
        rows.append([
            "5", f"logs of a container that wrote {mib:.0f} MiB", "1 container",
            f"`cat logs` {fmt_s(c5)}",
            f"`docker logs` {fmt_s(d5)}",
            f"curl `GET /logs` {fmt_s(med('t5.curl', 'logs'))}",
            f"{slower(c5 / d5)} than `docker logs` (daemon peak RSS {fmt_mib(med('t5.hwm', 'logs'))})",
            "at least as fast as `docker logs`, peak RSS under 32 MiB",
            check(5, 1, "cat logs / docker logs", c5 / d5, "<= 1", c5 / d5 <= 1) + "; RSS: "
            + check(5, 1, "daemon VmHWM KiB after the logs runs", med("t5.hwm", "logs"), "< 32768",
                    med("t5.hwm", "logs") < 32 * 1024),
        ])

    # 6. memory: 32 MiB at 500, 48 MiB at 2,000
    for n in sorted({n for (c, n) in runs if c == "t6.rss"}, key=nkey):
        rss, hwm = med("t6.rss", n), med("t6.hwm", n)
        limit = 48 if nkey(n) > (0, 500) else 32
        rows.append([
            "6", "daemon resident memory (VmRSS)", n, f"{fmt_mib(rss)} (peak {fmt_mib(hwm)})",
            "", "", "", f"under {limit} MiB",
            check(6, n, "VmRSS KiB", rss, f"< {limit * 1024}", rss < limit * 1024),
        ])

    # 7. start-up at scale
    for n in sorted({n for (c, n) in runs if c == "t7.listing"}, key=nkey):
        t = med("t7.listing", n)
        ps = med("t3.ps", n)
        rows.append([
            "7", "a new mount: from starting the daemon to a complete `ls containers`", n,
            fmt_s(t), f"`docker ps -a` {fmt_s(ps)}" if ps else "", "", "",
            "within 1 s at 500" if n == "500" else "",
            check(7, n, "seconds to a complete listing", t, "<= 1", t <= 1) if n == "500" else "",
        ])

    # 8. requests per event
    for (c, n), v in sorted(runs.items()):
        if c != "t8.req":
            continue
        req, lines = v[0][0], v[0][1]
        rows.append([
            "8", "engine requests per event line (outside changes: create, start, kill, destroy)",
            f"{lines} lines", f"{req:.0f} requests, {req / lines:.2f} per event" if lines else "n/a",
            "", "", "", "counted", "",
        ])

    # 9. the burst
    want, got, ordered = med("t9.want", "burst"), med("t9.got", "burst"), med("t9.ordered", "burst")
    if want is not None:
        ok = want == got and ordered == 1 and want > 0
        rows.append([
            "9", "a burst of container events made outside (create + destroy)",
            runs[("t9.want", "burst")][0][1],
            f"`cat events`: {got:.0f} lines, each container's {'in' if ordered == 1 else 'not all in'}"
            f" the engine's order, the last {fmt_s(med('t9.time', 'burst'))} after the first create;"
            f" across containers {med('t9.moved', 'burst') or 0:.0f} out of a `docker events` reader's order",
            f"`docker events`: {want:.0f} lines; a second reader {med('t9.moved_docker', 'burst') or 0:.0f}"
            " out of the first's order", "", "",
            "complete and in order (each container's; concurrent events of different containers"
            " have no one order: two readers of one dockerd differ)",
            check(9, "burst", "lines missing or out of order", want - got + (0 if ordered == 1 else 1),
                  "== 0", ok),
        ])

    # ---- the CSV ----
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "target", "n", "case", "tool", "what", "runs", "median", "unit",
                    "per_op", "goal", "result"])
        for (case, n) in sorted(runs, key=lambda k: (k[0].split(".")[0], nkey(k[1]), k[0])):
            v = runs[(case, n)]
            tool, what = CASES.get(case, ("", case))
            m = statistics.median(x[0] for x in v)
            unit = v[0][2]
            w.writerow(["measure", case.split(".")[0][1:], n, case, tool, what, len(v),
                        f"{m:.6g}", unit, f"{m / v[0][1]:.6g}", "", ""])
        for (target, n, what, value, goal, met) in checks:
            unit = {3: "requests", 6: "KiB", 7: "s", 9: "lines"}.get(target, "ratio")
            w.writerow(["target", target, n, "", "", what, "", f"{value:.6g}", unit, "", goal,
                        "met" if met else "missed"])

    # ---- the markdown ----
    head = ["#", "Measure", "N", "cutipfs", "docker CLI", "raw API (curl)", "cutipfs vs the rest",
            "Target", "Result"]
    lines = [
        f"Benchmark run {meta.get('date', '')}: `{meta.get('command', 'bash bench/run.sh')}`, "
        f"{meta.get('backend', '')} {meta.get('engine_version', '')} at {meta.get('engine', '')}, "
        f"{meta.get('cpus', '?')} CPUs, Linux {meta.get('kernel', '')}, cutipfs {meta.get('commit', '')}"
        f" ({meta.get('others', '0')} other container{'' if meta.get('others') == '1' else 's'} in the engine at the start; load average "
        f"{meta.get('load_start', '?')} at the start, {meta.get('load_end', '?')} at the end). Medians of 5 runs "
        f"after a warm-up (3 for loops of {iters} reads and for N ≥ 500); starts: one run of N"
        f"{'' if meta.get('mode') == 'quick' else ' (the median of 3 at N = 10)'}. "
        f"Ratios are cutipfs's time over the other's.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    met = sum(1 for c in checks if c[5])
    lines += ["", f"{met} of {len(checks)} checks met."]
    md = "\n".join(lines) + "\n"
    with open(out_md, "w") as f:
        f.write(md)
    print()
    print(md)
    for (target, n, what, value, goal, ok) in checks:
        print(f"target {target} (N={n}): {what} = {value:.4g} (goal {goal}): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
