#!/usr/bin/env python3
"""The load comparison of bench/README.md, in one run: HTTP JSON-RPC through a direct connection
to a fake EL node, through vixy and through nginx; WebSocket round trips and notifications, vixy
against direct; vixy's memory per idle WebSocket session; failover disturbance; and the
micro-benchmarks. Prints one markdown report (the table of bench/RESULTS.md).

Every process is started here on 127.0.0.1 with ports the processes pick (port 0, read back from
their logs; nginx gets a port this script picks by binding port 0) and stopped by its PID, also on
failure and Ctrl-C. Run it through scripts/bench.sh, which builds what it needs.
"""

import argparse
import atexit
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (bench/report.py: the markdown tables)

CHILDREN = []  # every process started, stopped by PID on exit

# Debian's allocators (libmimalloc-dev, libjemalloc-dev), for --allocator.
ALLOCATORS = {"mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
              "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"}
# How each is set up when preloaded: as one would deploy it for a proxy whose load comes in bursts,
# giving freed memory back while idle (jemalloc purges only while allocating unless its background
# thread does it; mimalloc purges after a delay by itself). A setting of the caller's wins.
ALLOCATOR_ENV = {"jemalloc": {"MALLOC_CONF": "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"},
                 "mimalloc": {}}


class Child:
    def __init__(self, name, argv, workdir, cpus=None, stdin=None, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, stdin=stdin or subprocess.DEVNULL,
                                     text=True, env=env)
        self.pid = self.proc.pid
        CHILDREN.append(self)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        if self in CHILDREN:
            CHILDREN.remove(self)
        self.log.close()

    def cpu_seconds(self):
        """user + system CPU of this process and its children so far (nginx's workers are its master's
        children; a taskset wrapper execs, so the PID is the program's)."""
        return sum(process_cpu_seconds(pid) for pid in [self.pid] + child_pids(self.pid))

    def thread_cpu_seconds(self):
        """CPU per thread, over the process and its children: how evenly vixy's threads or nginx's
        workers shared a load."""
        out = {}
        for pid in [self.pid] + child_pids(self.pid):
            out.update(task_cpu_seconds(pid))
        return out

    def pin(self, cpus):
        """Moves every thread of the running process to `cpus` (taskset only pinned it at start)."""
        cores = {int(c) for c in cpus.split(",")}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            os.sched_setaffinity(int(tid), cores)

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError(f"{self.name}: no VmRSS")

    def wait_log(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                match = regex.search(f.read())
            if match:
                return match
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            time.sleep(0.02)
        raise RuntimeError(f"{self.name}: no '{pattern}' in its log within {timeout} s; see {self.log_path}")


def stat_cpu_seconds(stat_path):
    """user + system CPU from a /proc stat file (a process's: all its threads; a task's: one), or 0
    when the process or thread has gone."""
    try:
        with open(stat_path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid):
    return stat_cpu_seconds(f"/proc/{pid}/stat")


def task_cpu_seconds(pid):
    """{(pid, tid): user + system CPU} of every thread of a running process."""
    return {(pid, tid): stat_cpu_seconds(f"/proc/{pid}/task/{tid}/stat") for tid in os.listdir(f"/proc/{pid}/task")}


def child_pids(pid):
    children = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            pass
    return children


def stop_all():
    for child in reversed(list(CHILDREN)):
        try:
            child.stop()
        except Exception as e:  # keep stopping the others
            print(f"bench: stopping {child.name} (pid {child.pid}): {e}", file=sys.stderr)


def on_signal(number, _frame):
    stop_all()
    sys.exit(128 + number)


def listening(child, what):
    match = child.wait_log(rf"msg=listening what={what} addr=(127\.0\.0\.1:\d+)")
    return match.group(1)


def admin_post(addr, path):
    """POSTs an empty JSON body to a fake node's admin API; raises unless it answered 200."""
    request = urllib.request.Request(f"http://{addr}{path}", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{addr}{path}: HTTP {response.status}")


def block_number(addr):
    """A fake EL node's head height, over its JSON-RPC."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
    request = urllib.request.Request(f"http://{addr}/", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["result"], 16)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.build_dir
        self.work = tempfile.mkdtemp(prefix="vixy-bench-")
        # With one proxy thread (worker), the proxy under test gets a core of its own; load generator
        # and fake node share the other, identically for every contestant, so the proxy's own CPU per
        # request is measured cleanly. With more, everything shares every core (no pinning).
        two = os.cpu_count() >= 2 and not args.no_pin and args.proxy_threads == 1
        self.cpu_proxy = "1" if two else None
        self.cpu_rest = "0" if two else None
        self.results = {"runs": [], "micro": None}

    # ---- processes ----
    def fakenode(self, name, block_time_ms):
        child = Child(name, [f"{self.bin}/fakenodes/vixy-fakenode", "el", "--listen", "127.0.0.1:0", "--admin",
                             "127.0.0.1:0", "--chain-seed", "7", "--block-time-ms", str(block_time_ms), "--name", name,
                             "--log-level", "info"], self.work, self.cpu_rest)
        child.rpc = listening(child, "rpc")
        child.admin = listening(child, "admin")
        return child

    def vixy(self, primary, backup, name="vixy", extra="", preload=None, threads=None, cpus=None):
        """`threads` and `cpus` default to the run's (--proxy-threads, the proxy's core)."""
        config = os.path.join(self.work, f"{name}.toml")
        if "[server]" not in extra:
            extra = "[server]\n" + extra
        threads = threads or self.args.proxy_threads
        extra = extra.replace("[server]\n", f"[server]\nthreads = {threads}\n", 1)
        with open(config, "w") as f:
            f.write(extra)
            f.write(f"""[global]
health_check_interval_ms = {self.args.health_interval_ms}
health_check_timeout_ms = 1000
max_el_lag_blocks = 100000

[[el.primary]]
name = "primary"
http_url = "http://{primary.rpc}"
ws_url = "ws://{primary.rpc}"

[[el.backup]]
name = "backup"
http_url = "http://{backup.rpc}"
ws_url = "ws://{backup.rpc}"
""")
        env = None
        if preload:
            allocator = next(name for name, path in ALLOCATORS.items() if path == preload)
            env = {**ALLOCATOR_ENV[allocator], **os.environ, "LD_PRELOAD": preload}
        child = Child(name, [f"{self.bin}/proxy/vixy", "--config", config, "--listen", "127.0.0.1:0", "--log-level",
                             "info"], self.work, cpus or self.cpu_proxy, env=env)
        child.threads = threads
        child.addr = listening(child, "proxy")
        self.wait_ready(child.addr)
        return child

    def wait_ready(self, addr, timeout=20):
        """vixy answers /ready 200 once a health round found a healthy node."""
        host, port = addr.split(":")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, int(port)), timeout=1) as s:
                    s.sendall(b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"vixy at {addr} not ready within {timeout} s")

    def nginx(self, upstream, threads=None, cpus=None):
        port = free_port()
        threads = threads or self.args.proxy_threads
        root = os.path.join(self.work, f"nginx-{threads}")
        os.makedirs(root, exist_ok=True)
        config = os.path.join(root, "nginx.conf")
        # As many workers as vixy has threads (one: a single process); upstream keep-alive, HTTP/1.1
        # both sides, no logging. Several workers need the master process, whose children they are.
        with open(config, "w") as f:
            f.write(f"""daemon off;
master_process {"on" if threads > 1 else "off"};
worker_processes {threads};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  client_body_buffer_size 64k;
  upstream el {{ server {upstream}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    keepalive_requests 1000000;
    location / {{
      proxy_pass http://el;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
        child = Child(f"nginx-{threads}", [self.args.nginx, "-p", root, "-e", f"{root}/error.log", "-c", config],
                      self.work, cpus or self.cpu_proxy)
        child.threads = threads
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                child.addr = f"127.0.0.1:{port}"
                return child
            except OSError:
                if child.proc.poll() is not None:
                    raise RuntimeError(f"nginx exited; see {root}/error.log")
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 10 s")

    def loadgen(self, mode, options, watch=(), cpus=None):
        """Runs one load generator mode; returns its JSON plus the CPU share of each watched process."""
        argv = [f"{self.bin}/bench/vixy-loadgen", mode]
        for key, value in options.items():
            argv += [f"--{key}", str(value)]
        before = {name: child.cpu_seconds() for name, child in watch}
        threads_before = {name: c.thread_cpu_seconds() for name, c in watch if name == "proxy"}
        started = time.monotonic()
        child = Child("loadgen", argv, self.work, cpus or self.cpu_rest)
        out, _ = child.proc.communicate(timeout=600)
        wall = time.monotonic() - started
        after = {name: c.cpu_seconds() for name, c in watch}
        threads_after = {name: c.thread_cpu_seconds() for name, c in watch if name == "proxy"}
        child.stop()
        if child.proc.returncode != 0:
            with open(child.log_path) as f:
                raise RuntimeError(f"vixy-loadgen {mode} failed ({child.proc.returncode}): {out.strip()} {f.read()}")
        result = json.loads(out.strip().splitlines()[-1])
        result["cpu"] = {name: (after[name] - before[name]) / wall for name in before}
        for name, then in threads_before.items():
            spent = sorted((cpu - then.get(key, 0.0) for key, cpu in threads_after[name].items()), reverse=True)
            # The busiest of the proxy's N busiest threads (or workers): 1/N is a perfect spread.
            busiest = spent[:dict(watch)[name].threads]
            result["busiest_thread_share"] = busiest[0] / sum(busiest) if sum(busiest) > 0 else float("nan")
        return result

    def record(self, **fields):
        self.results["runs"].append(fields)
        if self.args.verbose:
            print(json.dumps(fields), file=sys.stderr)

    # ---- phases ----
    def http_phase(self, fake, proxies):
        a = self.args
        contestants = [("direct", fake.rpc, "/", None)] + [(n, c.addr, "/el", c) for n, c in proxies]
        kinds = [("throughput", {"concurrency": a.concurrency}, None),
                 ("latency", {"rate": a.rate, "concurrency": a.rate_connections}, None)]
        if self.cpu_proxy is not None:
            # The same latency run with every process on the proxy's core: no cross-core wake-ups,
            # which on this VM cost more than the proxy's own work (bench/RESULTS.md).
            kinds.append(("latency-one-core", {"rate": a.rate, "concurrency": a.rate_connections}, self.cpu_proxy))
        for repeat in range(a.repeats):
            for body, _ in report.BODIES:
                for kind, extra, cpus in kinds:
                    if cpus:
                        fake.pin(cpus)
                    for name, addr, path, proc in contestants:  # alternating, so drift hits all alike
                        watch = [("fake", fake)] + ([("proxy", proc)] if proc else [])
                        r = self.loadgen("http", {"target": addr, "path": path, "body": body,
                                                  "duration": a.duration, "warmup": a.warmup, **extra}, watch, cpus)
                        if r["errors"]:
                            raise RuntimeError(f"{name} {body} {kind}: {r['errors']} errors")
                        self.record(phase="http", kind=kind, body=body, contestant=name, repeat=repeat, result=r)
                    if cpus:
                        fake.pin(self.cpu_rest)

    def threads_phase(self, fake, backup):
        """vixy with 1 and 2 threads beside nginx with 1 and 2 workers, closed-loop throughput, nothing
        pinned (the proxy, the fake node and the load generator share every core, as on an operator's
        host): what a second core gives each proxy."""
        a = self.args
        every = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
        proxies = []
        try:
            for n in (1, 2):
                proxies.append((f"vixy-{n}", self.vixy(fake, backup, name=f"vixy-threads-{n}", threads=n, cpus=every)))
                if a.nginx:
                    proxies.append((f"nginx-{n}", self.nginx(fake.rpc, threads=n, cpus=every)))
            fake.pin(every)
            for repeat in range(a.repeats):
                for body, _ in report.BODIES:
                    for name, proc in proxies:  # alternating, so drift hits all alike
                        r = self.loadgen("http", {"target": proc.addr, "path": "/el", "body": body,
                                                  "duration": a.duration, "warmup": a.warmup,
                                                  "concurrency": a.concurrency},
                                         [("fake", fake), ("proxy", proc)], every)
                        if r["errors"]:
                            raise RuntimeError(f"{name} {body} threads: {r['errors']} errors")
                        self.record(phase="threads", kind="throughput", body=body, contestant=name,
                                    threads=proc.threads, repeat=repeat, result=r)
        finally:
            if self.cpu_rest is not None:
                fake.pin(self.cpu_rest)
            for _, proc in proxies:
                proc.stop()

    def ws_phase(self, fake, vixy):
        a = self.args
        for repeat in range(a.repeats):
            for name, addr, path, proc in (("direct", fake.rpc, "/", None), ("vixy", vixy.addr, "/el/ws", vixy)):
                watch = [("fake", fake)] + ([("proxy", proc)] if proc else [])
                r = self.loadgen("ws-rtt", {"target": addr, "path": path, "concurrency": a.concurrency,
                                            "duration": a.duration, "warmup": a.warmup}, watch)
                self.record(phase="ws-rtt", contestant=name, repeat=repeat, result=r)
                r = self.loadgen("ws-notify", {"target": addr, "path": path, "subscribers": a.subscribers,
                                               "duration": a.duration, "warmup": a.warmup}, watch)
                self.record(phase="ws-notify", contestant=name, repeat=repeat, result=r)

    def memory_phase(self, fake, backup):
        # vixy as built, then with each --allocator preloaded.
        for contestant, preload in [("vixy", None)] + [(f"vixy+{a}", ALLOCATORS[a]) for a in self.args.allocator]:
            self.memory_runs(fake, backup, contestant, preload)

    def memory_runs(self, fake, backup, contestant, preload):
        fd_limit = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[0]
        # Every session subscribes to newHeads; with the nodes' blocks paused it then stays idle (no
        # notification waits unread in vixy for a client that is only being held open).
        for node in (fake, backup):
            admin_post(node.admin, "/pause")
        for wanted in self.args.sessions:
            # vixy holds one socket per session (upstream sockets are pooled per node) and the
            # holder one; stay under the descriptor limit.
            sessions = min(wanted, fd_limit - 200)
            for repeat in range(self.args.repeats):
                # The default max_connections keeps a second descriptor per client for an HTTP
                # relay's upstream; these clients are WebSocket sessions only.
                vixy = self.vixy(fake, backup, name="vixy-memory",
                                 extra=f"[server]\nmax_connections = {sessions + 16}\n\n", preload=preload)
                time.sleep(0.3)
                base = vixy.rss_kib()
                holder = Child("ws-idle", [f"{self.bin}/bench/vixy-loadgen", "ws-idle", "--target", vixy.addr,
                                           "--sessions", str(sessions), "--subscribe", "1", "--read", "1"],
                               self.work, self.cpu_rest)
                line = holder.proc.stdout.readline()
                ready = json.loads(line) if line else {"ready": 0, "failed": sessions}
                time.sleep(0.5)  # let the last sessions' buffers settle
                rss = vixy.rss_kib()
                # Then as sessions stand once they have followed the chain for a while: each remembers
                # the hashes of its last backfill_depth (128) heads for I7. The holder reads them.
                for node in (fake, backup):
                    admin_post(node.admin, "/resume")
                time.sleep(max(1.0, 200 * self.args.block_time_ms / 1000))
                for node in (fake, backup):
                    admin_post(node.admin, "/pause")
                time.sleep(0.5)
                rss_heads = vixy.rss_kib()
                holder.stop()
                # What stays once the sessions are gone: vixy returns free memory every 5 s
                # (server/memory_release.hpp); the lowest RSS seen within --release-watch seconds.
                rss_after = rss_heads
                deadline = time.monotonic() + self.args.release_watch
                while time.monotonic() < deadline:
                    rss_after = min(rss_after, vixy.rss_kib())
                    time.sleep(0.2)
                vixy.stop()
                if ready["ready"] != sessions:
                    raise RuntimeError(f"only {ready['ready']} of {sessions} idle sessions opened")
                self.record(phase="memory", contestant=contestant, wanted=wanted, sessions=sessions, repeat=repeat,
                            fd_limit=fd_limit,
                            result={"base_kib": base, "rss_kib": rss,
                                    "per_session_kib": (rss - base) / sessions,
                                    "rss_heads_kib": rss_heads, "rss_after_close_kib": rss_after,
                                    "per_session_heads_kib": (rss_heads - base) / sessions})
        for node in (fake, backup):
            admin_post(node.admin, "/resume")

    def failover_phase(self, fake, backup, vixy):
        a = self.args
        for repeat in range(a.repeats):
            r = self.loadgen("failover", {"target": vixy.addr, "primary-admin": fake.admin, "settle": a.settle,
                                          "down": a.down, "failback-timeout": 15})
            self.record(phase="failover", repeat=repeat, result=r)

    def scale_phase(self):
        """The most sessions the descriptor limit allows (up to the largest --sessions), each subscribed
        to newHeads and checking every head's height, all moved by one kill of the primary."""
        a = self.args
        fd_limit = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[0]
        sessions = min(max(a.sessions), fd_limit - 200)
        # Slow blocks: what is measured is the move, not notification throughput.
        primary = self.fakenode("scale-primary", a.scale_block_time_ms)
        backup = self.fakenode("scale-backup", a.scale_block_time_ms)
        vixy = self.vixy(primary, backup, name="vixy-scale", extra=f"[server]\nmax_connections = {sessions + 16}\n\n")
        holder = Child("ws-scale", [f"{self.bin}/bench/vixy-loadgen", "ws-idle", "--target", vixy.addr,
                                    "--sessions", str(sessions), "--subscribe", "1", "--check", "1"],
                       self.work, self.cpu_rest)
        line = holder.proc.stdout.readline()
        ready = json.loads(line) if line else {"ready": 0, "failed": sessions}
        block = a.scale_block_time_ms / 1000
        time.sleep(3 * block)  # every session has had heads from the primary
        head_at_kill = block_number(backup.rpc)
        os.kill(primary.pid, signal.SIGKILL)  # dies, as in the incident: no goodbye to anyone
        primary.stop()
        time.sleep(a.scale_after_kill)
        os.kill(holder.pid, signal.SIGTERM)
        line = holder.proc.stdout.readline()
        holder.stop()
        heads = json.loads(line) if line else {}
        vixy.stop()
        backup.stop()
        if ready["ready"] != sessions:
            raise RuntimeError(f"only {ready['ready']} of {sessions} sessions subscribed")
        if not heads:
            raise RuntimeError("the load generator printed no head summary")
        heads["head_at_kill"] = head_at_kill
        self.record(phase="scale", sessions=sessions, fd_limit=fd_limit, result=heads)
        # Not a speed: what every session must have seen (I7 across the kill). A head may be on its
        # way to some sessions and not yet to others when the load generator is stopped.
        if (heads["gaps"] or heads["duplicates"] or heads["unreadable"] or heads["min_last"] + 1 < heads["max_last"]
                or heads["min_last"] <= head_at_kill):
            raise RuntimeError(f"scale run: sessions not moved whole by the kill: {heads}")

    def micro_phase(self):
        out = os.path.join(self.work, "micro.json")
        subprocess.run([f"{self.bin}/bench/vixy_micro_bench", f"--benchmark_min_time={self.args.micro_min_time}",
                        "--benchmark_format=json", f"--benchmark_out={out}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            self.results["micro"] = json.load(f)

    def run(self):
        a = self.args
        self.results["load_before"] = os.getloadavg()
        started = time.time()
        primary = self.fakenode("primary", a.block_time_ms)
        backup = self.fakenode("backup", a.block_time_ms)
        vixy = self.vixy(primary, backup)
        proxies = [("vixy", vixy)]
        if "http" in a.only:
            # The same binary with another malloc (LD_PRELOAD), beside the default in the same run.
            for allocator in a.allocator:
                proxies.append((f"vixy+{allocator}", self.vixy(primary, backup, name=f"vixy-{allocator}",
                                                               preload=ALLOCATORS[allocator])))
        if a.nginx and "http" in a.only:
            proxies.append(("nginx", self.nginx(primary.rpc)))
        if "http" in a.only:
            self.http_phase(primary, proxies)
        if "threads" in a.only:
            self.threads_phase(primary, backup)
        if "ws" in a.only:
            self.ws_phase(primary, vixy)
        if "failover" in a.only:
            self.failover_phase(primary, backup, vixy)
        for _, proc in proxies:
            proc.stop()
        if "memory" in a.only:
            self.memory_phase(primary, backup)
        if "scale" in a.only:
            self.scale_phase()
        if "micro" in a.only:
            self.micro_phase()
        self.results["load_after"] = os.getloadavg()
        self.results["seconds"] = time.time() - started


def commit_of(root):
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--quick", action="store_true", help="each measurement once and briefly: proves it works")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--duration", type=float, default=3.0, help="seconds measured per run")
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--concurrency", type=int, default=32, help="connections of the closed-loop runs")
    p.add_argument("--rate", type=float, default=1000,
                   help="offered requests/s of the latency runs: well below every contestant's throughput, or it measures a queue")
    p.add_argument("--rate-connections", type=int, default=16)
    p.add_argument("--subscribers", type=int, default=200, help="newHeads subscribers of the notification run")
    p.add_argument("--block-time-ms", type=int, default=10, help="the fake nodes' block time")
    p.add_argument("--health-interval-ms", type=int, default=100, help="vixy's health_check_interval_ms")
    p.add_argument("--sessions", type=int, nargs="+", default=[1000, 10000], help="idle WebSocket sessions")
    p.add_argument("--scale-block-time-ms", type=int, default=1000, help="the fake nodes' block time in the scale run")
    p.add_argument("--release-watch", type=float, default=8.0,
                   help="seconds the memory run watches RSS after the sessions closed (vixy returns memory every 5 s)")
    p.add_argument("--scale-after-kill", type=float, default=8.0, help="seconds the scale run watches after the kill")
    p.add_argument("--settle", type=float, default=1.5)
    p.add_argument("--down", type=float, default=1.5)
    p.add_argument("--micro-min-time", type=float, default=0.5)
    p.add_argument("--nginx", default="/usr/sbin/nginx", help="the nginx binary; '' leaves nginx out")
    parts = ["http", "threads", "ws", "failover", "memory", "scale", "micro"]
    p.add_argument("--only", nargs="+", default=parts, choices=parts, help="run only these parts")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    p.add_argument("--proxy-threads", type=int, default=1,
                   help="vixy's [server] threads and nginx's worker_processes; above 1, nothing is pinned")
    p.add_argument("--allocator", action="append", default=[], choices=sorted(ALLOCATORS),
                   help="also run the HTTP and memory phases through vixy with this malloc preloaded (repeatable)")
    p.add_argument("--json", help="also write every raw result here")
    p.add_argument("--out", help="also write the markdown report here")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--command", default="scripts/bench.sh", help="the command line to print in the report")
    a = p.parse_args()
    if a.quick:
        a.repeats, a.duration, a.warmup, a.subscribers = 1, 0.3, 0.1, 10
        a.sessions, a.settle, a.down, a.micro_min_time = [20, 50], 0.5, 0.5, 0.01
        a.scale_block_time_ms, a.scale_after_kill, a.release_watch = 200, 3.0, 0.5
    atexit.register(stop_all)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    bench = Bench(a)
    bench.run()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit_of(root),
            "cpus": os.cpu_count(), "machine": platform.machine(), "command": a.command,
            "pinned": bench.cpu_proxy is not None, "proxy_threads": a.proxy_threads, "args": vars(a)}
    text = report.markdown(meta, bench.results)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, **bench.results}, f, indent=1)


if __name__ == "__main__":
    main()
