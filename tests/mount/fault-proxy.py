#!/usr/bin/env python3
"""A faulty engine, for the fault cases: an HTTP proxy on a unix socket in front of the real
engine's socket that forwards every request, except those a rule names, which it answers badly.

    fault-proxy.py LISTEN-SOCKET ENGINE-SOCKET RULES-FILE LOG-FILE

RULES-FILE is read again for every request, and every 0.1 s by each forwarded connection; each
line is "MODE REGEX", REGEX (Python re.search) matched against "METHOD PATH", the first match
wins:
    pass     forward it (the default for what no rule names)
    hang     200 and the start of a body, then nothing more, ever (until the client goes)
    500      HTTP 500 with a JSON message, as an engine that failed says it
    big      200 with a body of 100 MiB (a JSON array of strings)
    garbage  200 with a complete body that is not JSON
    cut      200, part of the body, then the connection closed; also closes, at once, every
             forwarded connection of a matching request still open (an events or follow stream)
    slow     forwarded 2 s late, as a request over a slow link would be ("slow:N": N s late)
    pull     200 with the recorded stream of a pull (tests/fixtures/progress/docker-pull.jsonl),
             one message every 0.7 s, as a registry's slow layers would come (no image is made)
Each request and what was done with it is a line of LOG-FILE: "MODE METHOD PATH", and "cut-live
METHOD PATH" for a stream cut. A forwarded request goes upstream with "Connection: close", so
that every request of a kept-alive client connection passes through the rules.
"""
import asyncio
import os
import re
import sys

LISTEN, UPSTREAM, RULES, LOG = sys.argv[1:5]
BIG = 100 << 20
MODES = ("pass", "slow", "hang", "500", "big", "garbage", "cut", "pull")
PULL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "progress",
                    "docker-pull.jsonl")


def rules():
    try:
        with open(RULES) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        mode, _, rx = line.strip().partition(" ")
        if mode.partition(":")[0] in MODES and rx:
            out.append((mode, re.compile(rx)))
    return out


def mode_for(reqline):
    for mode, rx in rules():
        if rx.search(reqline):
            return mode
    return "pass"


def note(*words):
    with open(LOG, "a") as f:
        f.write(" ".join(words) + "\n")


def head(status, ctype, length=None):
    h = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nApi-Version: 1.41\r\n"
    h += f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (h + "Connection: close\r\n\r\n").encode()


async def fault(mode, w):
    if mode == "hang":
        w.write(head("200 OK", "application/json") + b"2\r\n[{\r\n")
        await w.drain()
        await asyncio.Event().wait()  # cancelled when the client goes
    elif mode == "500":
        body = b'{"message":"fault proxy: injected server error"}'
        w.write(head("500 Internal Server Error", "application/json", len(body)) + body)
    elif mode == "garbage":
        body = b'[{"Id": "abc", "Names": ["/x"] this is not JSON'
        w.write(head("200 OK", "application/json", len(body)) + body)
    elif mode == "big":
        item = b'"' + b"x" * 1021 + b'",'  # 1 KiB
        n = BIG // len(item)
        w.write(head("200 OK", "application/json", 1 + n * len(item) + 2) + b"[")
        for _ in range(n // 64):
            w.write(item * 64)
            await w.drain()
        w.write(b"0]")
    elif mode == "cut":
        w.write(head("200 OK", "application/json", 100000) + b'[{"Id":"')
    elif mode == "pull":
        w.write(head("200 OK", "application/json"))
        with open(PULL, "rb") as f:
            for line in f:
                w.write(b"%x\r\n%s\r\n" % (len(line), line))
                await w.drain()
                await asyncio.sleep(0.7)
        w.write(b"0\r\n\r\n")
    await w.drain()


def with_close(raw):
    lines = raw.split(b"\r\n")
    keep = [l for l in lines[1:] if l and not l.lower().startswith(b"connection:")]
    return b"\r\n".join([lines[0]] + keep + [b"Connection: close", b"", b""])


async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        w.close()


async def watch_cut(reqline):
    while mode_for(reqline) != "cut":
        await asyncio.sleep(0.1)


async def forward(raw, reqline, cr, cw):
    ur, uw = await asyncio.open_unix_connection(UPSTREAM)
    uw.write(with_close(raw))
    tasks = [asyncio.ensure_future(c) for c in
             (pipe(cr, uw), pipe(ur, cw), watch_cut(reqline))]
    done, _ = await asyncio.wait(tasks[1:], return_when=asyncio.FIRST_COMPLETED)
    if tasks[2] in done:
        note("cut-live", reqline)
    for t in tasks:
        t.cancel()
    uw.close()


async def client(cr, cw):
    try:
        raw = await cr.readuntil(b"\r\n\r\n")
        reqline = " ".join(raw.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2])
        mode, _, late = mode_for(reqline).partition(":")
        note(mode, reqline)
        if mode in ("pass", "slow"):
            if mode == "slow":
                await asyncio.sleep(float(late or 2))
            await forward(raw, reqline, cr, cw)
        else:
            await fault(mode, cw)
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        cw.close()


async def main():
    if os.path.exists(LISTEN):
        os.unlink(LISTEN)
    server = await asyncio.start_unix_server(client, LISTEN)
    async with server:
        await server.serve_forever()


asyncio.run(main())
