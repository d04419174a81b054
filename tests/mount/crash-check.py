#!/usr/bin/env python3
"""The crash test's (case-crash.sh) checks of one round, against the engine as the witness.

  crash-check.py snap SOCK W P CARDS GEN K...   each card's version on disk and its containers,
                                                as JSON
  crash-check.py disk CARDS GEN JOURNAL K...    what the journal says was written is on disk
  crash-check.py after SOCK W P CARDS GEN START KILLED JOURNAL K...
                                                after the remount: one container per card, and
                                                nothing changed that the cards did not

Card kK is the file kK.container.yaml; its container is named PkK; GEN/kK.vN is the text of
version N of it, whose command prints vN. START is the snapshot taken as the round began,
KILLED the one after the kill. Prints what is wrong and exits 1, or exits 0."""
import http.client
import json
import os
import re
import socket
import sys
import urllib.parse


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("engine", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def get(sock, path):
    c = UnixHTTP(sock)
    c.request("GET", "/v1.41" + path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body) if r.status == 200 else None


def containers(sock, w, p, keys):
    """Per card key: the list of the workspace's containers that card made or that bear its
    name, each {id, name, started, state, version}."""
    f = urllib.parse.quote(json.dumps({"label": ["cutipfs.workspace=" + w]}))
    listed = get(sock, "/containers/json?all=1&filters=" + f) or []
    out = {k: [] for k in keys}
    for c in listed:
        card = c.get("Labels", {}).get("cutipfs.card", "")
        names = [n.lstrip("/") for n in c.get("Names", [])]
        for k in keys:
            if card == k + ".container.yaml" or p + k in names:
                j = get(sock, "/containers/" + c["Id"] + "/json")
                if not j:
                    continue  # removed meanwhile
                m = re.search(r"echo v(\d+)", " ".join(j["Config"].get("Cmd") or []))
                out[k].append({"id": j["Id"], "name": j["Name"].lstrip("/"),
                               "started": j["State"]["StartedAt"],
                               "state": j["State"]["Status"],
                               "version": m.group(1) if m else None})
    return out


def disk_version(cards, gen, k):
    """None: no card file; "": a file that is no complete version (an interrupted write);
    else the version whose text the file holds."""
    path = os.path.join(cards, k + ".container.yaml")
    try:
        text = open(path, "rb").read()
    except FileNotFoundError:
        return None
    m = re.search(rb"echo v(\d+)", text)
    if not m:
        return ""
    v = m.group(1).decode()
    try:
        return v if open(os.path.join(gen, "%s.v%s" % (k, v)), "rb").read() == text else ""
    except FileNotFoundError:
        return ""


def check_disk(cards, gen, journal, keys):
    """The last finished operation on each card, if it returned success, is what the disk
    holds; an operation still running at the kill (no result line) promises nothing."""
    last = {}
    for line in open(journal):
        words = line.split()
        if len(words) >= 3 and words[1] in keys:
            last[words[1]] = words
    bad = []
    for k, words in last.items():
        if words[0] != "ok":
            continue
        v = disk_version(cards, gen, k)
        if words[2] == "write" and v != words[3]:
            bad.append("%s: written v%s returned success, the disk holds %s" %
                       (k, words[3], "nothing" if v is None else "v" + v if v else
                        "a partial card"))
        if words[2] in ("rm", "rmdir") and v is not None:
            bad.append("%s: %s returned success, the file is still there" % (k, words[2]))
    return bad


def attempted(journal):
    """The cards an operation was tried on this round, and those a ctl was tried on."""
    cards, ctl = set(), set()
    for line in open(journal):
        words = line.split()
        if len(words) >= 3 and words[0] == "try":
            cards.add(words[1])
            if words[2] == "ctl":
                ctl.add(words[1])
    return cards, ctl


def unchanged(k, before, c, may_restart):
    """What is wrong when container c is not the same container before was, as it was."""
    if c is None:
        return "%s: removed without its card changing (was %s)" % (k, before["id"][:12])
    if c["id"] != before["id"]:
        return "%s: recreated without its card changing: %s -> %s" % (
            k, before["id"][:12], c["id"][:12])
    if may_restart or before["state"] == "created":
        return None
    if c["started"] != before["started"] or c["state"] != before["state"]:
        return "%s: restarted without its card changing: %s %s -> %s %s" % (
            k, before["state"], before["started"], c["state"], c["started"])
    return None


def check_after(sock, w, p, cards, gen, start, killed, journal, keys):
    now = containers(sock, w, p, keys)
    _, ctl = attempted(journal)
    bad = []
    for k in keys:
        v = disk_version(cards, gen, k)
        cs = now[k]
        if len(cs) > 1:
            bad.append("%s: %d containers: %s" % (k, len(cs), cs))
            continue
        c = cs[0] if cs else None
        if v is None:
            if c:
                bad.append("%s: no card, but container %s" % (k, c))
            continue
        if v == "":
            continue  # an interrupted write left no whole card: what it made may stay
        if not c:
            bad.append("%s: card v%s, no container" % (k, v))
            continue
        if c["version"] != v:
            bad.append("%s: card v%s, container of v%s" % (k, v, c["version"]))
            continue
        if c["state"] == "created":
            bad.append("%s: card v%s, its container never started" % (k, v))
            continue
        # The container that was there for this very card when the daemon died stays as it
        # was; and so does the one of a card that no operation of the round got to change
        # (an interrupted rm, say, that removed the container but not the file).
        for snap, may_restart in ((killed, False), (start, k in ctl)):
            b = snap[k]["containers"]
            if snap[k]["disk"] == v and len(b) == 1 and b[0]["version"] == v:
                why = unchanged(k, b[0], c, may_restart)
                if why:
                    bad.append(why)
                    break
    return bad


def main(argv):
    cmd = argv[1]
    if cmd == "snap":
        sock, w, p, cards, gen, keys = argv[2], argv[3], argv[4], argv[5], argv[6], argv[7:]
        cs = containers(sock, w, p, keys)
        json.dump({k: {"disk": disk_version(cards, gen, k), "containers": cs[k]} for k in keys},
                  sys.stdout)
        return 0
    if cmd == "disk":
        bad = check_disk(argv[2], argv[3], argv[4], argv[5:])
    elif cmd == "after":
        sock, w, p, cards, gen, start, killed, journal = argv[2:10]
        bad = check_after(sock, w, p, cards, gen, json.load(open(start)),
                          json.load(open(killed)), journal, argv[10:])
    else:
        sys.exit("crash-check.py: unknown command " + cmd)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
