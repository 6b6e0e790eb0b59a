"""The markdown report of bench/run.py: every figure as median (min–max) over the repeats, with
its ratio to the baseline measured in the same run."""

import statistics

BODIES = (("blockNumber", "eth_blockNumber"), ("call4k", "eth_call, 4 KiB body"), ("batch10", "batch of 10"))


def pick(results, **match):
    return [r for r in results["runs"] if all(r.get(k) == v for k, v in match.items())]


def spread(values, digits=0):
    values = [v for v in values if v == v]  # NaN: not measured for this contestant
    if not values:
        return "—"
    f = f"{{:,.{digits}f}}"
    med = statistics.median(values)
    if len(values) == 1:
        return f.format(med)
    return f"{f.format(med)} ({f.format(min(values))}–{f.format(max(values))})"


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else None


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "—"


def http_values(results, kind, body, contestant, get):
    return [get(r["result"]) for r in pick(results, phase="http", kind=kind, body=body, contestant=contestant)]


def cpu_per_request(r):
    # µs of the proxy's CPU per HTTP request: throughput per core, independent of what else limits the run
    return r["cpu"]["proxy"] * 1e6 / r["per_second"] if r["per_second"] else 0


# The fixed-rate latency runs: proxy on its own core (as the throughput runs), and everything on
# the proxy's core, which leaves out the cross-core wake-ups.
LATENCY_LAYOUTS = (("latency", ""), ("latency-one-core", ", one core"))


def added_median(results, kind, body, contestant):
    """Median latency through `contestant` minus the direct median, in the same layout."""
    base = med(http_values(results, kind, body, "direct", lambda r: r["latency"]["p50_us"]))
    v = med(http_values(results, kind, body, contestant, lambda r: r["latency"]["p50_us"]))
    return v - base if v is not None and base is not None else None


def http_section(results, contestants):
    lines = ["| HTTP JSON-RPC | " + " | ".join(contestants) + " | vixy / direct" +
             (" | vixy / nginx |" if "nginx" in contestants else " |"),
             "|---" * (len(contestants) + 2 + ("nginx" in contestants)) + "|"]

    def row(label, kind, body, get, digits=0, lower_is_better=False):
        cells, medians = [], {}
        for c in contestants:
            v = http_values(results, kind, body, c, get)
            cells.append(spread(v, digits))
            medians[c] = med(v)
        line = f"| {label} | " + " | ".join(cells) + f" | {ratio(medians.get('vixy'), medians.get('direct'))}"
        if "nginx" in contestants:
            line += f" | {ratio(medians.get('vixy'), medians.get('nginx'))}"
        lines.append(line + " |")

    a = results["args"]
    for body, label in BODIES:
        row(f"{label}: requests/s, {a['concurrency']} connections", "throughput", body, lambda r: r["per_second"])
    for body, label in BODIES:
        row(f"{label}: proxy CPU µs per request", "throughput", body,
            lambda r: cpu_per_request(r) if "proxy" in r["cpu"] else float("nan"), 1)
    if a.get("proxy_threads", 1) > 1:
        for body, label in BODIES:
            row(f"{label}: busiest proxy thread's share of its CPU (1/{a['proxy_threads']} is even)", "throughput",
                body, lambda r: r.get("busiest_thread_share", float("nan")), 2)
    for kind, layout in LATENCY_LAYOUTS:
        for body, label in BODIES:
            for p in ("p50", "p99", "p999"):
                row(f"{label}: {p} µs at {a['rate']:,.0f}/s{layout}", kind, body,
                    lambda r, p=p: r["latency"][f"{p}_us"])
    lines.append("")
    lines.append("Added median latency over direct at the fixed rate (µs, difference of the medians):")
    lines.append("")
    others = [c for c in contestants if c != "direct"]
    lines.append("| body | " + " | ".join(f"{c}{layout}" for kind, layout in LATENCY_LAYOUTS for c in others) + " |")
    lines.append("|---" * (1 + len(others) * len(LATENCY_LAYOUTS)) + "|")
    for body, label in BODIES:
        cells = []
        for kind, _ in LATENCY_LAYOUTS:
            for c in others:
                added = added_median(results, kind, body, c)
                cells.append(f"{added:+.0f}" if added is not None else "—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def threads_section(results):
    """What a second thread (worker) gives each proxy, from the unpinned runs of the threads phase."""
    runs = pick(results, phase="threads")
    if not runs:
        return []
    proxies = [p for p in ("vixy", "nginx") if pick(results, phase="threads", contestant=f"{p}-1")]
    header = "| closed loop, 32 connections, nothing pinned | " + " | ".join(
        f"{p} 1 | {p} 2 | {p} 2 ÷ 1" for p in proxies) + (" | vixy ÷ nginx, 1 | vixy ÷ nginx, 2 |"
                                                         if len(proxies) == 2 else " |")
    lines = [header.replace("closed loop, 32", f"closed loop, {results['args']['concurrency']}"),
             "|---" * (1 + 3 * len(proxies) + (2 if len(proxies) == 2 else 0)) + "|"]
    for what, get, digits in (("requests/s", lambda r: r["per_second"], 0),
                              ("proxy CPU µs per request", cpu_per_request, 1)):
        for body, label in BODIES:
            medians, cells = {}, []
            for p in proxies:
                for n in (1, 2):
                    v = [get(r["result"]) for r in pick(results, phase="threads", body=body, contestant=f"{p}-{n}")]
                    medians[(p, n)] = med(v)
                    cells.append(spread(v, digits))
                cells.append(ratio(medians[(p, 2)], medians[(p, 1)]))
            if len(proxies) == 2:
                cells += [ratio(medians[("vixy", n)], medians[("nginx", n)]) for n in (1, 2)]
            lines.append(f"| {label}: {what} | " + " | ".join(cells) + " |")
    return lines


def ws_section(results):
    a = results["args"]
    offered = a["subscribers"] * 1000 / a["block_time_ms"]
    lines = ["| WebSocket | direct | vixy | vixy / direct |", "|---|---|---|---|"]
    for phase, label, get, digits in (
            ("ws-rtt", f"round trips/s, {a['concurrency']} sessions", lambda r: r["per_second"], 0),
            ("ws-rtt", "round trip p50 µs (closed loop)", lambda r: r["latency"]["p50_us"], 0),
            ("ws-rtt", "proxy CPU µs per round trip", lambda r: r["cpu"].get("proxy", float("nan")) * 1e6 / r["per_second"], 1),
            ("ws-notify", f"newHeads notifications/s, {a['subscribers']} subscribers (offered {offered:,.0f}/s)",
             lambda r: r["per_second"], 0),
            ("ws-notify", "proxy CPU µs per notification",
             lambda r: r["cpu"].get("proxy", float("nan")) * 1e6 / r["per_second"], 1)):
        d = [get(r["result"]) for r in pick(results, phase=phase, contestant="direct")]
        v = [get(r["result"]) for r in pick(results, phase=phase, contestant="vixy")]
        direct_cell = spread(d, digits) if "CPU" not in label else "—"
        lines.append(f"| {label} | {direct_cell} | {spread(v, digits)} | "
                     f"{ratio(med(v), med(d)) if 'CPU' not in label else '—'} |")
    return lines


def memory_section(results):
    lines = ["| idle WebSocket sessions, each subscribed to newHeads | vixy RSS before (MiB) | with sessions (MiB) | "
             "KiB per session | after 200 blocks (MiB) | KiB per session then | after they closed (MiB) |",
             "|---|---|---|---|---|---|---|"]
    # Results from before --allocator reached this phase name no contestant: vixy as built.
    contestants = sorted({r.get("contestant", "vixy") for r in pick(results, phase="memory")}, key=lambda c: (c != "vixy", c))
    for contestant, wanted in [(c, w) for c in contestants for w in results["args"]["sessions"]]:
        runs = [r for r in pick(results, phase="memory", wanted=wanted) if r.get("contestant", "vixy") == contestant]
        if not runs:
            continue
        n = runs[0]["sessions"]
        label = f"{n:,}" + (f" (of {wanted:,} asked: fd limit {runs[0]['fd_limit']:,}, 1 socket per session)"
                            if n != wanted else "")
        if contestant != "vixy":
            label += f", {contestant}"
        lines.append(f"| {label} | {spread([r['result']['base_kib'] / 1024 for r in runs], 1)} | "
                     f"{spread([r['result']['rss_kib'] / 1024 for r in runs], 1)} | "
                     f"{spread([r['result']['per_session_kib'] for r in runs], 1)} | "
                     f"{spread([r['result'].get('rss_heads_kib', 0) / 1024 for r in runs], 1)} | "
                     f"{spread([r['result'].get('per_session_heads_kib', 0) for r in runs], 1)} | "
                     f"{spread([r['result'].get('rss_after_close_kib', float('nan')) / 1024 for r in runs], 1)} |")
    return lines


def scale_section(results):
    runs = pick(results, phase="scale")
    if not runs:
        return []
    a = results["args"]
    lines = [f"| sessions, each subscribed to newHeads (block time {a['scale_block_time_ms']} ms), one primary kill "
             f"| heads delivered | gaps | duplicates | heads every session got after the kill (from the backup) "
             f"| sessions within one head of the newest {a['scale_after_kill']} s after the kill |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        h = r["result"]
        at_last = "all" if h["min_last"] + 1 >= h["max_last"] else f"no: heights {h['min_last']}–{h['max_last']}"
        after = h["min_last"] - h["head_at_kill"] if "head_at_kill" in h else "—"
        lines.append(f"| {r['sessions']:,} | {h['heads']:,} | {h['gaps']} | {h['duplicates']} | ≥ {after} | {at_last} |")
    return lines


def failover_section(results):
    runs = [r["result"] for r in pick(results, phase="failover")]
    a = results["args"]

    def vals(get):
        out = []
        for r in runs:
            try:
                out.append(get(r))
            except (KeyError, TypeError):
                pass
        return out

    rows = [
        ("primary killed → first good HTTP answer (ms)", lambda r: r["http_after_kill"]["first_ok_ms"], 1),
        ("primary killed → first good WebSocket answer (ms)", lambda r: r["ws_after_kill"]["first_ok_ms"], 1),
        ("primary killed → first newHeads notification (ms)", lambda r: r["first_head_after_kill_ms"], 1),
        ("worst HTTP request latency while primary down (ms)", lambda r: r["http_after_kill"]["worst_ms"], 1),
        ("worst WebSocket request latency while primary down (ms)", lambda r: r["ws_after_kill"]["worst_ms"], 1),
        ("failed HTTP / WebSocket requests while down", lambda r: r["http_after_kill"]["failed"] + r["ws_after_kill"]["failed"], 0),
        ("primary restarted → all sessions back on it (ms)", lambda r: r["failback_ms"], 0),
        ("failed requests after restart", lambda r: r["http_after_restart"]["failed"] + r["ws_after_restart"]["failed"], 0),
        ("newHeads: heights missed / repeated over the run", None, 0),
    ]
    lines = [f"| disturbance (block time {a['block_time_ms']} ms, health interval {a['health_interval_ms']} ms, "
             f"requests every 2 ms) | vixy |", "|---|---|"]
    for label, get, digits in rows:
        if get is None:
            lines.append(f"| {label} | {spread(vals(lambda r: r['heads_missed']))} / "
                         f"{spread(vals(lambda r: r['heads_repeated']))} |")
        else:
            lines.append(f"| {label} | {spread(vals(get), digits)} |")
    return lines


def bottleneck_section(results):
    def most(get):
        vals = []
        for r in results["runs"]:
            try:
                v = get(r)
            except (KeyError, TypeError):
                continue
            if v is not None:
                vals.append(v)
        return f"{max(vals):.2f}" if vals else "—"

    return [
        "| CPU share of one core, highest over all runs | load generator | fake node | proxy |",
        "|---|---|---|---|",
        f"| HTTP throughput runs | {most(lambda r: r['result']['loadgen_cpu'] if r['kind'] == 'throughput' else None)}"
        f" | {most(lambda r: r['result']['cpu']['fake'] if r['kind'] == 'throughput' else None)}"
        f" | {most(lambda r: r['result']['cpu']['proxy'] if r['kind'] == 'throughput' else None)} |",
        f"| WebSocket runs | {most(lambda r: r['result']['loadgen_cpu'] if r['phase'].startswith('ws') else None)}"
        f" | {most(lambda r: r['result']['cpu']['fake'] if r['phase'].startswith('ws') else None)}"
        f" | {most(lambda r: r['result']['cpu']['proxy'] if r['phase'].startswith('ws') else None)} |",
    ]


def micro_section(results):
    micro = results.get("micro")
    if not micro:
        return []
    lines = ["| micro-benchmark | ns per operation (CPU) | iterations |", "|---|---|---|"]
    for b in micro["benchmarks"]:
        lines.append(f"| {b['name']} | {b['cpu_time']:,.0f} | {b['iterations']:,} |")
    return lines


def targets_section(results, contestants):
    lines = ["| target (issue 6) | measured (medians) | met |", "|---|---|---|"]
    for body, label in BODIES:
        v = med(http_values(results, "throughput", body, "vixy", lambda r: r["per_second"]))
        n = med(http_values(results, "throughput", body, "nginx", lambda r: r["per_second"]))
        vc = med(http_values(results, "throughput", body, "vixy", cpu_per_request))
        nc = med(http_values(results, "throughput", body, "nginx", cpu_per_request))
        if v is None or n is None:
            continue
        lines.append(f"| HTTP throughput ≥ nginx ({label}) | {v:,.0f} vs {n:,.0f} req/s; CPU per request "
                     f"{vc:.1f} vs {nc:.1f} µs | {'yes' if v >= n else 'no'} |")
    for kind, layout in LATENCY_LAYOUTS:
        for body, label in BODIES:
            v = added_median(results, kind, body, "vixy")
            if v is None:
                continue
            n = added_median(results, kind, body, "nginx")
            versus = f" (nginx {n:+.0f} µs)" if n is not None else ""
            lines.append(f"| added median latency < 100 µs ({label}{layout}) | {v:+.0f} µs{versus} | "
                         f"{'yes' if v < 100 else 'no'} |")
    for r in pick(results, phase="memory", repeat=0):
        if r.get("contestant", "vixy") != "vixy":
            continue
        # The session as it stands after following the chain (its I7 history full) is the one counted.
        per = med([x["result"].get("per_session_heads_kib", x["result"]["per_session_kib"])
                   for x in pick(results, phase="memory", wanted=r["wanted"]) if x.get("contestant", "vixy") == "vixy"])
        lines.append(f"| ≤ 16 KiB per idle subscribed WebSocket session ({r['sessions']:,}, after 200 blocks) | "
                     f"{per:.1f} KiB | {'yes' if per <= 16 else 'no'} |")
    fo = [x["result"] for x in pick(results, phase="failover")]
    worst = []
    for x in fo:
        try:
            worst.append(max(x["http_after_kill"]["first_ok_ms"], x["ws_after_kill"]["first_ok_ms"],
                             x["first_head_after_kill_ms"]))
        except KeyError:
            pass
    if worst:
        m = med(worst)
        lines.append(f"| failover disturbance < 100 ms (slowest of first HTTP/WS answer and first head) | "
                     f"{m:.1f} ms | {'yes' if m < 100 else 'no'} |")
    return lines


def markdown(meta, results):
    results = dict(results)
    results["args"] = meta["args"]
    variants = sorted({r.get("contestant", "") for r in results["runs"] if r.get("contestant", "").startswith("vixy+")})
    contestants = ["direct", "vixy"] + variants + (["nginx"] if pick(results, contestant="nginx") else [])
    lb, la = results.get("load_before", (0, 0, 0)), results.get("load_after", (0, 0, 0))
    out = [
        f"Measured {meta['date']} at commit {meta['commit']} on {meta['cpus']} cores ({meta['machine']}), "
        f"load average {lb[0]:.2f} before and {la[0]:.2f} after ({results.get('seconds', 0):.0f} s); "
        + ("proxy pinned to core 1, load generator and fake node to core 0." if meta["pinned"] else "no pinning.")
        + f" vixy threads and nginx workers: {meta.get('proxy_threads', 1)}."
        + f" Each figure: median (min–max) over {meta['args']['repeats']} runs of "
        f"{meta['args']['duration']} s, contestants alternating.",
        "",
        f"Command: `{meta['command']}`",
        "",
        "### Targets", "", *targets_section(results, contestants), "",
        "### HTTP", "", *http_section(results, contestants), "",
        "### Threads: one and two, beside nginx with one and two workers", "", *threads_section(results), "",
        "### WebSocket", "", *ws_section(results), "",
        "### Memory", "", *memory_section(results), "",
        "### Scale: sessions moved by one kill", "", *scale_section(results), "",
        "### Failover", "", *failover_section(results), "",
        "### Is the load generator the bottleneck?", "", *bottleneck_section(results), "",
        "### Micro-benchmarks", "", *micro_section(results), "",
    ]
    return "\n".join(out)
