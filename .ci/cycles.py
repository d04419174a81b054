#!/usr/bin/env python3
"""Fails when C files under backends/ call each other in a cycle.

Usage: cycles.py BUILD_DIR [PREFIX]   (PREFIX: the source folder to look at, default backends/)

Runs `nm` on each object file of the build whose source is under PREFIX (from the build's
compile_commands.json; without it, every BUILD_DIR/PREFIX/**/*.o), maps every global symbol an
object defines (functions: T/t is not global, so T, W, and also D/B/R data) to its source file,
and every undefined symbol (U) an object uses to the file that defines it. That gives a graph
file -> file ("a.c uses a symbol defined in b.c"). Any strongly connected component of more than
one file is a cycle: printed with each edge and the symbols that make it. Exit 1 when there is
one, 0 when none, 2 when nothing could be read.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict


def objects(build, prefix):
    """(source path relative to the source tree, object path) for each object under prefix."""
    cc = os.path.join(build, "compile_commands.json")
    found = []
    if os.path.exists(cc):
        for c in json.load(open(cc)):
            src = os.path.normpath(os.path.join(c.get("directory", build), c["file"]))
            out = os.path.normpath(os.path.join(c.get("directory", build), c["output"]))
            # The source path relative to the source root: the part from PREFIX on.
            rel = src.replace(os.sep, "/")
            i = rel.find("/" + prefix)
            if i < 0 or not out.endswith(".o"):
                continue
            if os.path.exists(out):
                found.append((rel[i + 1:], out))
    if not found:
        for dirpath, _, files in os.walk(os.path.join(build, prefix)):
            for f in files:
                if f.endswith(".o"):
                    p = os.path.join(dirpath, f)
                    found.append((os.path.relpath(p, build), p))
    return sorted(set(found))


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TWDBRGSV" and kind.isupper():
            defined.add(name)
    return defined, undefined


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, result, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                result.append(sorted(comp))
    return result


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    build = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else "backends/"
    objs = objects(build, prefix)
    if not objs:
        print(f"cycles: no object files for {prefix} in {build}", file=sys.stderr)
        return 2
    owner, uses = {}, {}
    for src, obj in objs:
        d, u = symbols(obj)
        uses[src] = u
        for s in d:
            owner.setdefault(s, src)
    edges = defaultdict(set)
    why = defaultdict(set)
    for src, u in uses.items():
        for s in u:
            dst = owner.get(s)
            if dst and dst != src:
                edges[src].add(dst)
                why[(src, dst)].add(s)
    nodes = sorted(uses)
    for n in nodes:
        edges[n]
    bad = [c for c in sccs(nodes, edges) if len(c) > 1]
    print(f"cycles: {len(nodes)} files under {prefix}, "
          f"{sum(len(v) for v in edges.values())} file-to-file edges")
    for i, comp in enumerate(sorted(bad), 1):
        members = set(comp)
        print(f"cycle {i}: {len(comp)} files: {' '.join(comp)}")
        for a in comp:
            for b in sorted(edges[a] & members):
                print(f"  {a} -> {b}: {' '.join(sorted(why[(a, b)]))}")
    if bad:
        print(f"cycles: {len(bad)} cycle(s) among the files under {prefix}")
        return 1
    print("cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
