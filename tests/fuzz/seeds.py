#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target into a directory: seeds.py TARGET DIR.

Cards that reach every field of every kind (commands, ports, lists, volumes, sexagesimal and
YAML 1.1 values, aliases and merge keys, placeholders), engine documents and streams of each
shape the decoders read, and inputs long enough to reach each size bound of the cards (the
1 MiB file, the node, depth and alias-byte bounds, the placeholder byte bound). The decoders'
only bound, ENGINE_BODY_MAX (64 MiB) of a JSON line, is past what a fuzzer can run fast: their
long seeds stay under run.sh's 64 KB -max_len for them.
Generated rather than kept as files so that the large ones cost nothing in the tree; the card
targets also read tests/fixtures (run.sh passes it)."""
import json
import os
import struct
import sys

HEAD = "apiVersion: cutip/v1\nkind: %s\nmetadata:\n  name: %s\n"

CONTAINER = HEAD % ("ContainerCard", "web") + """\
  labels: {team: a, "n": 1, on: yes}
spec:
  imageRef: {ref: images/web}
  networkRef: {ref: networks/app-net}
  network_mode: bridge
  command: "sh -c 'echo \\"$HOME\\" && sleep 1:30' --flag=\\\\x ''"
  hostname: h-{{ secrets.token }}
  workdir: "{{ paths.data }}/w"
  privileged: 0b1
  cap_add: [NET_ADMIN, SYS_TIME]
  security_opts:
    - no-new-privileges
    - seccomp=unconfined
  ports: {"8080/tcp": 80, "53/udp": "5353", 9000: 0x2328, "1:30": 1:30}
  environment:
    TOKEN: "{{ secrets.token }}"
    CACHE: "{{paths.cache}}"
    N: 1_000
    F: 1.5e+3
    S: 190:20:30
    D: 2001-12-14t21:59:43.10-05:00
    NUL: ~
    LEGACY: "{{ vars.x }}"
  mounts:
    - type: bind
      source: "{{ paths.data }}/html"
      target: /usr/share/nginx/html
      read_only: on
      create_host_path: No
    - {type: volume, source: data, target: /data}
  volumes: {data: /var/lib/data, "{{ paths.big }}": x}
  labels: {a: b}
  restart_policy: unless-stopped
  replicas: 0x10
"""

OTHERS = [
    HEAD % ("ImageCard", "web") + """\
spec:
  source: build
  tag: 3.20
  context: "{{ paths.data }}/ctx"
  dockerfile: Dockerfile
  build_args: {V: 1:0:0:0:0:0:0:0:0:0:0:0, TOKEN: "{{ secrets.token }}", X: .inf}
  buildtime_resources:
    - {src: "{{ paths.cache }}/r", dest: d}
  buildtime_dir: bt
  network_mode: host
""",
    HEAD % ("ImageCard", "pulled") + "spec:\n  source: pull\n  image: docker.io/library/busybox\n  tag: !!str 1.36\n",
    HEAD % ("NetworkCard", "app-net") + "spec:\n  driver: bridge\n  subnet: 172.28.0.0/24\n  gateway: 172.28.0.1\n",
    HEAD % ("VolumeCard", "data") + "spec:\n  driver: local\n  labels: {k: v}\n  options: {type: tmpfs, o: 'size=1m'}\n",
    HEAD % ("Unit", "web") + "spec:\n  containerRef: {ref: containers/web}\n  hooks: {prehook: pre.sh, posthook: post.sh}\n",
    HEAD % ("Group", "main") + "spec:\n  units: [{ref: units/web}, {ref: units/db}]\n  workflow: wf.py\n  orchestrator: o.py\n",
    # merge keys, anchors, explicit tags, flow style, a document marker
    "---\nbase: &b {apiVersion: cutip/v1, kind: NetworkCard}\n<<: *b\nmetadata: {name: n}\n"
    "spec: {subnet: !!str 10.0.0.0/8, gateway: !!null ''}\n...\n",
    # refs that do not resolve, a wrong kind, a duplicate
    HEAD % ("ContainerCard", "orphan") + "spec:\n  imageRef: {ref: networks/app-net}\n  networkRef: {ref: nope}\n",
]


def alias_card(size, times):
    return (HEAD % ("ContainerCard", "c") + "  labels: {x: &x " + "a" * size + "}\nspec:\n"
            "  imageRef: {ref: images/i}\n  cap_add: [" + ", ".join(["*x"] * times) + "]\n")


def card_seeds():
    seeds = {"container.yaml": CONTAINER}
    for i, text in enumerate(OTHERS):
        seeds["card%d.yaml" % i] = text
    # several cards in one input, as fuzz_card reads them
    seeds["workspace.yaml"] = "\n#%%\n".join([CONTAINER] + OTHERS)
    # the size bounds: aliases past 1 MiB of text, past 20,000 nodes, nesting past 64 levels,
    # a file past 1 MiB
    seeds["alias-bytes.yaml"] = alias_card(30000, 80)
    seeds["alias-nodes.yaml"] = ("l0: &l0 [" + ", ".join(["x"] * 9) + "]\n" + "".join(
        "l%d: &l%d [%s]\n" % (i, i, ", ".join(["*l%d" % (i - 1)] * 9)) for i in range(1, 6)))
    seeds["deep.yaml"] = "a: " + "[" * 70 + "]" * 70 + "\n"
    seeds["wide.yaml"] = "a: [" + "x, " * 20001 + "x]\n"
    seeds["big.yaml"] = CONTAINER + "#" + "x" * (1024 * 1024) + "\n"
    # 150,000 starts of a placeholder that never match (fuzz_placeholder's first timeout, when
    # the scan used strstr)
    seeds["braces.yaml"] = (HEAD % ("ContainerCard", "b") + "spec:\n  imageRef: {ref: images/i}\n"
                            '  hostname: "' + "{{ x" * 150000 + '"\n')
    # placeholders past the 1 MiB bound (64 KB a name, 40 names)
    seeds["placeholders.yaml"] = (HEAD % ("ContainerCard", "p") + "spec:\n  imageRef: {ref: images/i}\n"
                                  "  environment:\n" + "".join(
                                      '    E%d: "{{ paths.big }}"\n' % i for i in range(40)))
    return seeds


def shlex_seeds():
    return {
        "plain": "serve --port 80",
        "quotes": "sh -c 'echo \"$HOME\"' \"a\\\"b\" '' \"\"",
        "escapes": "a\\ b \\\\ \"\\$x\" \\\n c\td\re\x0bf\x0cg",
        "open-single": "echo 'unterminated",
        "open-double": "echo \"unterminated",
        "trailing-backslash": "echo \\",
        "long": "x " * 30000,
    }


CONTAINER_DOC = {
    "Id": "a" * 64, "Name": "/web", "Created": "2024-01-02T03:04:05.123456789Z",
    "State": {"Status": "running", "Running": True, "ExitCode": 0, "Pid": 42,
              "StartedAt": "2024-01-02T03:04:06Z", "Health": {"Status": "healthy"}},
    "Config": {"Image": "busybox:latest", "Labels": {"cutipfs.card": "containers/web",
                                                      "com.docker.swarm.task.name": "s.1.x"},
               "Tty": False, "Cmd": ["sh"]},
    "Image": "sha256:" + "b" * 64,
    "NetworkSettings": {"Networks": {"app-net": {"IPAddress": "172.28.0.2"}}},
    "RestartCount": 1,
}
SUMMARY = {"Id": "c" * 64, "Names": ["/web"], "Image": "busybox", "State": "running",
           "Status": "Up 3 minutes (healthy)", "Labels": {"k": "v"}, "Created": 1700000000}
NETWORK = {"Name": "app-net", "Id": "d" * 64, "Driver": "bridge", "Created": "2024-01-02T03:04:05Z",
           "IPAM": {"Config": [{"Subnet": "172.28.0.0/24", "Gateway": "172.28.0.1"}]},
           "Labels": {"k": "v"}, "Containers": {"x": {"Name": "web"}}}
IMAGE = {"Id": "sha256:" + "e" * 64, "RepoTags": ["busybox:latest", "x:1"], "Size": 12345,
         "Created": "2024-01-02T03:04:05Z", "Labels": None, "Config": {"Labels": {"k": "v"}}}
VOLUME = {"Name": "data", "Driver": "local", "Mountpoint": "/var/lib/docker/volumes/data",
          "CreatedAt": "2024-01-02T03:04:05Z", "Labels": {"k": "v"}, "Options": {"o": "size=1m"}}
EVENTS = [
    {"Type": "container", "Action": "start", "Actor": {"ID": "a" * 64, "Attributes": {"name": "web"}},
     "time": 1700000000, "timeNano": 1700000000123456789},
    {"Type": "container", "Action": "health_status: healthy", "Actor": {"ID": "a", "Attributes": {}}},
    {"Type": "container", "status": "died", "Action": "remove",
     "Actor": {"ID": "a", "Attributes": {"exitCode": "137", "signal": "9", "oldName": "/old"}}},
    {"Type": "image", "Action": "delete", "Actor": {"ID": "sha256:x", "Attributes": {"name": "docker.io/library/busybox:latest"}}},
    {"Type": "network", "Action": "create", "Actor": {"ID": "n", "Attributes": {"name": "app-net"}}, "time": 1e300},
]
PROGRESS = [
    {"status": "Pulling from library/busybox", "id": "latest"},
    {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "abc"},
    {"stream": "Step 1/2 : FROM busybox\n"},
    {"aux": {"ID": "sha256:" + "f" * 64}},
    {"errorDetail": {"message": "manifest unknown\n"}, "error": "manifest unknown"},
]


def lines(objs, sep="\n"):
    return sep.join(json.dumps(o) for o in objs) + sep


def inspect_seeds():
    return {"container.json": json.dumps(CONTAINER_DOC), "network.json": json.dumps(NETWORK),
            "image.json": json.dumps(IMAGE), "volume.json": json.dumps(VOLUME),
            "event.json": json.dumps(EVENTS[0]), "progress.json": json.dumps(PROGRESS[4]),
            "list.json": json.dumps([SUMMARY, NETWORK, IMAGE, VOLUME]),
            "volumes.json": json.dumps({"Volumes": [VOLUME], "Warnings": None}),
            "big.json": json.dumps([SUMMARY] * 150)}


def swarm_seeds():
    service = {"ID": "s1", "Spec": {"Name": "web", "Labels": {"cutipfs.card": "containers/web"},
                                    "Mode": {"Replicated": {"Replicas": 2}},
                                    "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}},
               "ServiceStatus": {"RunningTasks": 1, "DesiredTasks": 2},
               "CreatedAt": "2024-01-02T03:04:05Z", "UpdatedAt": "2024-01-02T03:04:06Z"}
    task = {"ID": "t1", "ServiceID": "s1", "NodeID": "n1", "Slot": 1, "DesiredState": "running",
            "Status": {"State": "running", "Timestamp": "2024-01-02T03:04:07Z", "Err": "",
                       "ContainerStatus": {"ContainerID": "c1"}}}
    failed = dict(task, ID="t2", Slot=2, Status={"State": "rejected", "Err": "No such image: x",
                                                 "Timestamp": "2024-01-02T03:04:08.5Z"})
    node = {"ID": "n1", "Description": {"Hostname": "m1", "Platform": {"OS": "linux"}},
            "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
            "Status": {"State": "ready", "Addr": "127.0.0.1"}, "ManagerStatus": {"Leader": True}}
    twin = dict(node, ID="n2", Spec={"Role": "worker", "Availability": "drain"})
    view = {"services": [service], "tasks": [task, failed], "nodes": [node, twin]}
    return {"view.json": json.dumps(view),
            "empty.json": json.dumps({"services": [], "tasks": [], "nodes": []}),
            "many.json": json.dumps({"services": [service] * 8, "tasks": [task, failed] * 40,
                                     "nodes": [node, twin] * 8})}


def stream_seeds(objs):
    # The first byte picks where fuzz_feed splits the rest.
    return {"lines": "\x07" + lines(objs), "crlf": "\x31" + lines(objs, "\r\n"),
            "shared-line": "\x00" + "".join(json.dumps(o) for o in objs),
            "not-json": "\x05" + "{oops\n" + lines(objs) + "[1,2",
            "long-line": "\x0f" + '{"status": "' + "x" * 60000 + '"}\n'}


def frame(stream, payload):
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def logs_seeds():
    framed = frame(1, b"hello\n") + frame(2, b"oops\n") + frame(0, b"") + frame(3, b"sys")
    return {"framed": b"\x02" + framed, "tty": b"\x03hello from a tty\r\n",
            "undetected": b"\x00plain text, no header",
            "short": b"\x04\x01\x00\x00",
            "truncated": b"\x06" + framed + struct.pack(">BxxxI", 1, 1 << 30) + b"part",
            "big": b"\x08" + frame(1, b"y" * 30000) * 2}


TARGETS = {
    "card": card_seeds, "canon": card_seeds, "placeholder": card_seeds,
    "shlex": shlex_seeds, "inspect": inspect_seeds, "swarm": swarm_seeds,
    "progress": lambda: stream_seeds(PROGRESS), "events": lambda: stream_seeds(EVENTS),
    "logs": logs_seeds,
}


def main():
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, data in TARGETS[target]().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())


if __name__ == "__main__":
    main()
