#!/usr/bin/env python3
"""Helpers for deploy/bench/run.sh (standard library only).

    bench.py snap PID [--apps P1,P2]      JSON: the process's CPU ticks (user, kernel) and VmRSS, per-CPU busy
                                          jiffies, time, and how often the app servers' threads slept
    bench.py record --before F --pid PID --wrk OUT --runs RUNS.jsonl KEY=VALUE...
                                          parses wrk's output, adds CPU us/request etc., appends one JSON line
    bench.py report --state DIR --results DIR
                                          medians over passes -> table on stdout, latest.md/.json/.csv
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGET_ORDER = ["switchyard", "switchyard-nolog", "nginx", "nginx-log", "haproxy", "haproxy-log", "nio-floor"]
TARGET_LABEL = {
    "switchyard": "Switchyard",
    "switchyard-nolog": "Switchyard, decisions off",
    "nginx": "nginx",
    "nginx-log": "nginx, access log",
    "haproxy": "HAProxy",
    "haproxy-log": "HAProxy, access log",
    "nio-floor": "NIO floor (byte relay, no HTTP; --floor)",
}
SCENARIO_ORDER = ["get", "mix", "64k", "upload", "close", "many"]
SCENARIO_LABEL = {
    "get": "1. small keep-alive GETs",
    "mix": "2. 90/10 mix, pinned reads",
    "64k": "3. 64 KiB responses",
    "upload": "4. 1 MiB uploads",
    "close": "5. new connection per request",
    "many": "7. small GETs, many clients (run.sh --scenarios many)",
}


# ---------------------------------------------------------------- snapshots

def proc_ticks(pid):
    """(utime, stime) of every thread, in clock ticks."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def voluntary_switches(pids):
    """How many times the given processes' threads went to sleep (voluntary context switches)."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/status") as status:
                    for line in status:
                        if line.startswith("voluntary_ctxt_switches:"):
                            total += int(line.split()[1])
            except OSError:
                pass
    return total


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_busy():
    busy = {}
    with open("/proc/stat") as stat:
        for line in stat:
            if not line.startswith("cpu"):
                break
            name, *values = line.split()
            values = [int(v) for v in values[:8]]
            total = sum(values)
            idle = values[3] + values[4]
            busy[name] = (total - idle, total)
    return busy


def tcp_active_opens():
    """Connections opened by anyone on the machine (wrk's, the proxies' to the app servers)."""
    with open("/proc/net/snmp") as snmp:
        rows = [line.split() for line in snmp if line.startswith("Tcp:")]
    if len(rows) >= 2 and "ActiveOpens" in rows[0]:
        return int(rows[1][rows[0].index("ActiveOpens")])
    return None


def snapshot(pid, apps=()):
    user, system = proc_ticks(pid)
    return {"time": time.monotonic(), "ticks": user + system, "user_ticks": user, "sys_ticks": system,
            "rss_kib": proc_rss_kib(pid), "cpus": cpu_busy(),
            "apps": list(apps), "app_sleeps": voluntary_switches(apps), "active_opens": tcp_active_opens()}


# ---------------------------------------------------------------- wrk output

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if not match:
        return None
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(text):
    result = {"requests": None, "seconds": None, "rps": None, "p50_ms": None, "p99_ms": None,
              "socket_errors": 0, "non_2xx": 0}
    match = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)", text, re.M)
    if match:
        result["requests"] = int(match.group(1))
        result["seconds"] = to_ms(match.group(2) + match.group(3)) / 1000.0
    match = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if match:
        result["rps"] = float(match.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", text, re.M)
        if match:
            result[key] = to_ms(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        result["socket_errors"] = sum(int(g) for g in match.groups())
        result["socket_errors_detail"] = match.group(0)
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if match:
        result["non_2xx"] = int(match.group(1))
    return result


def record(args):
    with open(args.before) as handle:
        before = json.load(handle)
    after = snapshot(args.pid, before.get("apps", []))
    with open(args.wrk) as handle:
        run = parse_wrk(handle.read())
    for pair in args.fields:
        key, _, value = pair.partition("=")
        run[key] = int(value) if value.isdigit() else value
    wall = after["time"] - before["time"]
    ticks = after["ticks"] - before["ticks"]
    run["cpu_s"] = ticks / CLK_TCK
    run["wall_s"] = round(wall, 3)
    run["proxy_cpu_pct"] = round(100.0 * run["cpu_s"] / wall, 1) if wall > 0 else None
    run["cpu_us_per_req"] = round(run["cpu_s"] * 1e6 / run["requests"], 2) if run["requests"] else None
    # The split: user time is the proxy's own code; kernel time is mostly the
    # sockets', plus waking whoever it writes to (wrk, the app servers) when
    # they sleep, which they do more often the slower the proxy is.
    if run["requests"] and "user_ticks" in before:
        run["user_us_per_req"] = round((after["user_ticks"] - before["user_ticks"]) / CLK_TCK * 1e6 / run["requests"], 2)
        run["sys_us_per_req"] = round((after["sys_ticks"] - before["sys_ticks"]) / CLK_TCK * 1e6 / run["requests"], 2)
    if run["requests"] and before.get("active_opens") is not None and after["active_opens"] is not None:
        run["connects_per_1k"] = round((after["active_opens"] - before["active_opens"]) * 1000 / run["requests"], 1)
    if run["requests"] and before.get("apps"):
        run["app_sleeps_per_1k"] = round((after["app_sleeps"] - before["app_sleeps"]) * 1000 / run["requests"], 1)
    run["rss_kib"] = after["rss_kib"]
    for name in sorted(after["cpus"]):
        if name == "cpu":
            continue
        busy = after["cpus"][name][0] - before["cpus"][name][0]
        total = after["cpus"][name][1] - before["cpus"][name][1]
        run[f"{name}_busy_pct"] = round(100.0 * busy / total, 1) if total else None
    with open("/proc/loadavg") as handle:
        run["loadavg1"] = float(handle.read().split()[0])
    # Pinned, the proxy is alone on its CPU: whatever else kept that CPU busy
    # (someone's compiler) took time from it.
    if args.proxy_cpu is not None and run.get(f"cpu{args.proxy_cpu}_busy_pct") is not None and run["proxy_cpu_pct"] is not None:
        run["others_on_proxy_cpu_pct"] = round(max(0.0, run[f"cpu{args.proxy_cpu}_busy_pct"] - run["proxy_cpu_pct"]), 1)
    disturbed = args.max_others is not None and (run.get("others_on_proxy_cpu_pct") or 0) > args.max_others
    run["disturbed"] = disturbed
    target_file = args.runs if not (disturbed and args.discard_disturbed) else args.runs.replace(".jsonl", "-discarded.jsonl")
    with open(target_file, "a") as handle:
        handle.write(json.dumps(run) + "\n")
    problems = []
    if not run["requests"]:
        problems.append("no requests")
    if run["socket_errors"]:
        problems.append(run.get("socket_errors_detail", "socket errors"))
    if run["non_2xx"]:
        problems.append(f"{run['non_2xx']} non-2xx/3xx responses")
    print(f"{run['rps'] or 0:10.0f} req/s  p50 {fmt(run['p50_ms'], 3)} ms  p99 {fmt(run['p99_ms'], 3)} ms  "
          f"{fmt(run['cpu_us_per_req'], 1)} us CPU/req  proxy CPU {fmt(run['proxy_cpu_pct'], 0)}%  "
          f"RSS {run['rss_kib'] / 1024:.1f} MiB" + (f"  !! {'; '.join(problems)}" if problems else ""))
    if disturbed:
        print(f"   !! others kept the proxy's CPU busy {run['others_on_proxy_cpu_pct']:.0f}% of the run"
              + (": discarded, measuring again" if args.discard_disturbed else ": kept (no retries left)"))
        if args.discard_disturbed:
            sys.exit(3)


# ---------------------------------------------------------------- report

def fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def load_jsonl(path):
    rows = []
    if os.path.exists(path):
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    return rows


def aggregate(runs):
    groups = {}
    for run in runs:
        groups.setdefault((run["mode"], run["scenario"], run["target"]), []).append(run)
    medians = []
    for (mode, scenario, target), items in groups.items():
        rps = [r["rps"] for r in items if r.get("rps") is not None]
        entry = {
            "mode": mode, "scenario": scenario, "target": target, "passes": len(items),
            "rps": median(rps),
            "rps_min": min(rps) if rps else None, "rps_max": max(rps) if rps else None,
            "p50_ms": median(r.get("p50_ms") for r in items),
            "p99_ms": median(r.get("p99_ms") for r in items),
            "cpu_us_per_req": median(r.get("cpu_us_per_req") for r in items),
            "user_us_per_req": median(r.get("user_us_per_req") for r in items),
            "sys_us_per_req": median(r.get("sys_us_per_req") for r in items),
            "app_sleeps_per_1k": median(r.get("app_sleeps_per_1k") for r in items),
            "connects_per_1k": median(r.get("connects_per_1k") for r in items),
            "proxy_cpu_pct": median(r.get("proxy_cpu_pct") for r in items),
            "rss_mib": median((r.get("rss_kib") or 0) / 1024 for r in items),
            "cpu0_busy_pct": median(r.get("cpu0_busy_pct") for r in items),
            "cpu1_busy_pct": median(r.get("cpu1_busy_pct") for r in items),
            "others_pct": median(r.get("others_on_proxy_cpu_pct") for r in items),
            "disturbed": sum(1 for r in items if r.get("disturbed")),
            "socket_errors": sum(r.get("socket_errors") or 0 for r in items),
            "non_2xx": sum(r.get("non_2xx") or 0 for r in items),
        }
        entry["rps_spread_pct"] = (100.0 * (entry["rps_max"] - entry["rps_min"]) / entry["rps"]) if entry["rps"] else None
        medians.append(entry)
    key = lambda e: (e["mode"], SCENARIO_ORDER.index(e["scenario"]) if e["scenario"] in SCENARIO_ORDER else 99,
                     TARGET_ORDER.index(e["target"]) if e["target"] in TARGET_ORDER else 99)
    medians.sort(key=key)
    by_key = {(e["mode"], e["scenario"], e["target"]): e for e in medians}
    for entry in medians:
        if not (entry["target"].startswith("switchyard") or entry["target"] == "nio-floor"):
            continue
        # Switchyard logging its decisions is also compared with the two logging theirs.
        others = ("nginx", "haproxy") + (("nginx-log", "haproxy-log") if entry["target"] == "switchyard" else ())
        for other in others:
            base = by_key.get((entry["mode"], entry["scenario"], other))
            if base:
                key = other.replace("-", "_")
                entry[f"rps_vs_{key}"] = ratio(entry["rps"], base["rps"])
                entry[f"cpu_vs_{key}"] = ratio(entry["cpu_us_per_req"], base["cpu_us_per_req"])
                entry[f"p99_vs_{key}"] = ratio(entry["p99_ms"], base["p99_ms"])
                entry[f"rss_vs_{key}"] = ratio(entry["rss_mib"], base["rss_mib"])
    return medians


# Switchyard against nginx and HAProxy doing the same work: logging a line per
# request (Switchyard's decision line, their access lines), or none at all.
LIKE_FOR_LIKE = [
    ("switchyard", "nginx-log", "each logging a line per request"),
    ("switchyard", "haproxy-log", "each logging a line per request"),
    ("switchyard-nolog", "nginx", "no log line"),
    ("switchyard-nolog", "haproxy", "no log line"),
]


def per_pass_ratios(runs, mode, scenario, target, other, field):
    """The ratio target/other for every pass in which both ran (the kept run of each)."""
    by_pass = {}
    for run in runs:
        if run.get("mode") == mode and run.get("scenario") == scenario and run.get("target") in (target, other):
            by_pass.setdefault(run.get("pass"), {})[run["target"]] = run.get(field)
    ratios = []
    for _, pair in sorted(by_pass.items(), key=lambda item: item[0] or 0):
        value = ratio(pair.get(target), pair.get(other))
        if value is not None:
            ratios.append(value)
    return ratios


def median_interval(values, confidence=0.95):
    """A distribution-free interval for the median of `values` (order statistics,
    from the binomial distribution of how many values fall below the median):
    (low, high, coverage). With too few values for the confidence asked (5 or
    fewer for 95 %), min..max and the coverage it has (94 % with 5); None with
    fewer than 2."""
    values = sorted(v for v in values if v is not None)
    n = len(values)
    if n == 0:
        return None
    # The largest k with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2:
    # the interval is the k-th smallest to the k-th largest value.
    below = 0.0  # P(X < k), for k counted from 1
    k = 0
    for candidate in range(1, n + 1):
        below += math.comb(n, candidate - 1) / 2 ** n
        if below > (1 - confidence) / 2:
            break
        k = candidate
    if k == 0:
        return (values[0], values[-1], 1 - 2 / 2 ** n) if n >= 2 else None
    tails = sum(math.comb(n, j) for j in range(k)) / 2 ** n
    return values[k - 1], values[n - k], 1 - 2 * tails


def like_for_like(medians, runs, mode):
    """Rows of the like-for-like comparison: ratios of the medians and the range over passes."""
    by_key = {(e["scenario"], e["target"]): e for e in medians if e["mode"] == mode}
    rows = []
    # Only where the logging nginx and HAProxy ran (run.sh: get, mix, many); elsewhere the
    # main table already pairs Switchyard with the two.
    logged = {scenario for (scenario, target) in by_key if target in ("nginx-log", "haproxy-log")}
    for scenario in SCENARIO_ORDER:
        if scenario not in logged:
            continue
        for target, other, work in LIKE_FOR_LIKE:
            a, b = by_key.get((scenario, target)), by_key.get((scenario, other))
            if not a or not b:
                continue
            key = other.replace("-", "_")  # aggregate() put the ratios of the medians on `a`
            passes = per_pass_ratios(runs, mode, scenario, target, other, "cpu_us_per_req")
            interval = median_interval(passes)
            rows.append({
                "mode": mode, "scenario": scenario, "target": target, "other": other, "work": work,
                "cpu_ratio": a.get(f"cpu_vs_{key}"),
                "cpu_ratio_passes": passes,
                "cpu_ratio_pass_median": median(passes),
                "cpu_ratio_interval": {"low": interval[0], "high": interval[1], "coverage": interval[2]} if interval else None,
                "cpu_ratio_passes_below_1": sum(1 for v in passes if v < 1),
                "rps_ratio": a.get(f"rps_vs_{key}"),
                "p99_ratio": a.get(f"p99_vs_{key}"),
                "user_ratio": ratio(a.get("user_us_per_req"), b.get("user_us_per_req")),
            })
    return rows


def render_like_for_like(rows):
    if not rows:
        return []
    lines = [
        "| scenario | Switchyard | against | work | CPU/req ratio (medians) | CPU/req ratio, per pass "
        "| median of the passes (95 % interval) | passes below 1.0 | user time ratio | req/s ratio | p99 ratio |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    last = None
    for r in rows:
        scenario = SCENARIO_LABEL.get(r["scenario"], r["scenario"]) if r["scenario"] != last else ""
        last = r["scenario"]
        passes = r["cpu_ratio_passes"]
        spread = f"{min(passes):.2f}-{max(passes):.2f}" if passes else "-"
        middle = f"{r['cpu_ratio_pass_median']:.2f}" if passes else "-"
        interval = r["cpu_ratio_interval"]
        if interval:
            covers = "" if interval["coverage"] >= 0.95 else f", {100 * interval['coverage']:.0f} %"
            middle += f" ({interval['low']:.2f}-{interval['high']:.2f}{covers})"
        below = f"{r['cpu_ratio_passes_below_1']} of {len(passes)}" if passes else "-"
        lines.append(
            f"| {scenario} | {TARGET_LABEL[r['target']]} | {TARGET_LABEL[r['other']]} | {r['work']} "
            f"| {fmt(r['cpu_ratio'], 2)} | {spread} | {middle} | {below} | {fmt(r['user_ratio'], 2)} "
            f"| {fmt(r['rps_ratio'], 2)} | {fmt(r['p99_ratio'], 2)} |")
    return lines


def aggregate_idle(idle_runs):
    groups = {}
    for run in idle_runs:
        groups.setdefault((run["mode"], run["target"]), []).append(run)
    result = []
    for (mode, target), items in groups.items():
        entry = {
            "mode": mode, "target": target, "passes": len(items), "count": items[0].get("count"),
            "opened": min(r.get("opened", 0) for r in items),
            "still_open": min(r.get("still_open", 0) for r in items),
            "rss_before_mib": median(r["rss_before_kib"] / 1024 for r in items),
            "rss_open_mib": median(r["rss_open_kib"] / 1024 for r in items),
            "rss_after_close_mib": median(r["rss_after_close_kib"] / 1024 for r in items),
            "kib_per_connection": median((r.get("bytes_per_connection") or 0) / 1024 for r in items),
        }
        result.append(entry)
    result.sort(key=lambda e: (e["mode"], TARGET_ORDER.index(e["target"]) if e["target"] in TARGET_ORDER else 99))
    by_key = {(e["mode"], e["target"]): e for e in result}
    for entry in result:
        if entry["target"].startswith("switchyard"):
            for other in ("nginx", "haproxy"):
                base = by_key.get((entry["mode"], other))
                if base:
                    entry[f"per_conn_vs_{other}"] = ratio(entry["kib_per_connection"], base["kib_per_connection"])
    return result


def render_table(medians, mode):
    lines = [
        "| scenario | target | req/s (median) | spread | p50 ms | p99 ms | CPU µs/req | proxy CPU % | RSS MiB "
        "| others on its CPU % | req/s ÷ nginx | req/s ÷ HAProxy | CPU/req ÷ nginx | CPU/req ÷ HAProxy | p99 ÷ nginx | p99 ÷ HAProxy |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    last = None
    for e in medians:
        if e["mode"] != mode:
            continue
        scenario = SCENARIO_LABEL.get(e["scenario"], e["scenario"]) if e["scenario"] != last else ""
        last = e["scenario"]
        flags = ""
        if e["socket_errors"] or e["non_2xx"]:
            flags = f" ⚠ {e['socket_errors']} socket errors, {e['non_2xx']} non-2xx"
        if e.get("disturbed"):
            flags += f" ⚠ {e['disturbed']} disturbed run(s) kept"
        lines.append(
            f"| {scenario} | {TARGET_LABEL.get(e['target'], e['target'])}{flags} | {fmt(e['rps'], 0)} | ±{fmt((e['rps_spread_pct'] or 0) / 2, 0)}% "
            f"| {fmt(e['p50_ms'], 3)} | {fmt(e['p99_ms'], 3)} | {fmt(e['cpu_us_per_req'], 1)} | {fmt(e['proxy_cpu_pct'], 0)} "
            f"| {fmt(e['rss_mib'], 1)} | {fmt(e.get('others_pct'), 0)} | {fmt(e.get('rps_vs_nginx'), 2)} | {fmt(e.get('rps_vs_haproxy'), 2)} "
            f"| {fmt(e.get('cpu_vs_nginx'), 2)} | {fmt(e.get('cpu_vs_haproxy'), 2)} "
            f"| {fmt(e.get('p99_vs_nginx'), 2)} | {fmt(e.get('p99_vs_haproxy'), 2)} |")
    return lines


def render_split(medians, mode):
    """User and kernel CPU per request, and how often the app servers slept, per scenario and target."""
    rows = [e for e in medians if e["mode"] == mode and e.get("user_us_per_req") is not None]
    if not rows:
        return []
    lines = [
        "| scenario | target | CPU µs/req | user | kernel | user ÷ nginx | kernel ÷ nginx | app servers slept, per 1,000 requests "
        "| connections opened, per 1,000 requests |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    by_key = {(e["scenario"], e["target"]): e for e in rows}
    last = None
    for e in rows:
        scenario = SCENARIO_LABEL.get(e["scenario"], e["scenario"]) if e["scenario"] != last else ""
        last = e["scenario"]
        base = by_key.get((e["scenario"], "nginx"))
        user_ratio = ratio(e["user_us_per_req"], base.get("user_us_per_req")) if base and e["target"] != "nginx" else None
        sys_ratio = ratio(e["sys_us_per_req"], base.get("sys_us_per_req")) if base and e["target"] != "nginx" else None
        lines.append(
            f"| {scenario} | {TARGET_LABEL.get(e['target'], e['target'])} | {fmt(e['cpu_us_per_req'], 1)} "
            f"| {fmt(e['user_us_per_req'], 1)} | {fmt(e['sys_us_per_req'], 1)} | {fmt(user_ratio, 2)} | {fmt(sys_ratio, 2)} "
            f"| {fmt(e.get('app_sleeps_per_1k'), 0)} | {fmt(e.get('connects_per_1k'), 1)} |")
    return lines


def render_idle(idle, mode):
    lines = [
        "| target | connections open / asked | RSS before MiB | RSS with them open MiB | KiB per idle connection "
        "| ÷ nginx | ÷ HAProxy | RSS after closing MiB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for e in idle:
        if e["mode"] != mode:
            continue
        lines.append(
            f"| {TARGET_LABEL.get(e['target'], e['target'])} | {e['still_open']:,} / {e['count']:,} | {fmt(e['rss_before_mib'], 1)} "
            f"| {fmt(e['rss_open_mib'], 1)} | {fmt(e['kib_per_connection'], 2)} | {fmt(e.get('per_conn_vs_nginx'), 2)} "
            f"| {fmt(e.get('per_conn_vs_haproxy'), 2)} | {fmt(e['rss_after_close_mib'], 1)} |")
    return lines


def micro_summary(text):
    """The benchmark tool's per-benchmark tables -> one row per benchmark (per single call)."""
    rows, name = [], None
    current = {}
    def number(cell):
        try:
            return float(cell.replace(",", ""))
        except ValueError:
            return None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[0] not in "│╒╞├╘═" and not stripped.startswith(("Host ", "#", "Baseline", "DecisionPath", "Running", "=")):
            if name and current:
                rows.append((name, current))
            name, current = stripped, {}
            continue
        if not stripped.startswith("│"):
            continue
        cells = [c.strip() for c in stripped.strip("│").split("│")]
        if len(cells) < 9 or cells[0] == "Metric":
            continue
        label = cells[0]
        values = [number(c) for c in cells[1:8]]
        unit = re.search(r"\((ns|μs|us|ms|s)\)", label)
        if label.startswith("Time (wall clock)"):
            factor = {"ns": 1, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}[unit.group(1)] if unit else 1
            current["ns_p50"] = values[2] * factor if values[2] is not None else None
            current["ns_p99"] = values[5] * factor if values[5] is not None else None
            current["scaled"] = label.endswith("*")
        elif label.startswith("Malloc (total)"):
            current["malloc_p50"] = values[2]
        elif label.startswith("Throughput"):
            scale = re.search(r"\((K|M|G)\)", label)
            factor = {"K": 1e3, "M": 1e6, "G": 1e9}[scale.group(1)] if scale else 1
            current["per_s_p50"] = values[2] * factor if values[2] is not None else None
    if name and current:
        rows.append((name, current))
    lines = ["| benchmark | ns per call (p50) | ns per call (p99) | allocations per call (p50) | calls/s (p50) |",
             "|---|--:|--:|--:|--:|"]
    for name, row in rows:
        lines.append(f"| {name} | {fmt(row.get('ns_p50'), 0)} | {fmt(row.get('ns_p99'), 0)} | {fmt(row.get('malloc_p50'), 0)} "
                     f"| {fmt(row.get('per_s_p50'), 0)} |")
    return lines, rows


def report(args):
    state, results = args.state, args.results
    os.makedirs(results, exist_ok=True)
    meta_path = os.path.join(state, "meta.json")
    runs = load_jsonl(os.path.join(state, "runs.jsonl"))
    discarded = load_jsonl(os.path.join(state, "runs-discarded.jsonl"))
    idle_runs = load_jsonl(os.path.join(state, "idle.jsonl"))
    if not runs and not idle_runs and os.path.exists(os.path.join(results, "latest.json")) and args.micro:
        # --micro-only: keep the last macro results, replace the micro section.
        with open(os.path.join(results, "latest.json")) as handle:
            previous = json.load(handle)
        meta, medians, idle, runs, idle_runs = (previous["meta"], previous["medians"], previous["idle"],
                                                previous["runs"], previous["idle_runs"])
        discarded = previous.get("discarded_runs", [])
    else:
        with open(meta_path) as handle:
            meta = json.load(handle)
        medians = aggregate(runs)
        idle = aggregate_idle(idle_runs)
    if os.path.exists(os.path.join(state, "meta-end.json")):
        with open(os.path.join(state, "meta-end.json")) as handle:
            meta.update(json.load(handle))
    micro = None
    if args.micro and os.path.exists(args.micro):
        with open(args.micro) as handle:
            micro = handle.read()

    modes = sorted({e["mode"] for e in medians} | {e["mode"] for e in idle}, key=lambda m: (m != "pinned", m))
    md = ["# Switchyard benchmark: latest results", ""]
    md.append(f"Generated by `{meta.get('command', 'deploy/bench/run.sh')}` on {meta.get('started', '?')} "
              f"(finished {meta.get('finished', '?')}).")
    md.append("")
    md.append("## Machine and conditions")
    md.append("")
    for key, label in (
        ("cpu_model", "CPU"), ("cpus", "CPUs"), ("kernel", "kernel"),
        ("loadavg_start", "load average at start (1/5/15 min)"), ("loadavg_end", "load average at end"),
        ("other_compilers", "swift compiler processes running at start (others' builds)"),
        ("load_wait", "waited for low load"),
        ("switchyard_binary", "Switchyard binary"), ("switchyard_version", "Switchyard version"),
        ("git", "main repository"), ("nginx_version", "nginx"), ("haproxy_version", "HAProxy"),
        ("wrk_version", "wrk"), ("postgres_version", "PostgreSQL"),
        ("passes", "passes"), ("duration_s", "seconds per run"), ("warmup_s", "warm-up seconds before each run"),
        ("wrk_settings", "wrk settings"), ("mix", "mix scenario"), ("idle_connections", "idle connections (scenario 6)"),
        ("disturbance", "disturbed pinned runs"),
    ):
        if key in meta:
            md.append(f"- {label}: {meta[key]}")
    md.append(f"- runs discarded as disturbed and measured again: {len(discarded)}")
    md.append("")
    md.append("Figures are medians over the passes; `spread` is half the max–min range of req/s over the passes, "
              "relative to the median. CPU µs/req is the proxy process's utime+stime over the run divided by the "
              "requests wrk completed (nginx: its worker process). Ratios are Switchyard's figure (and the NIO floor's, with --floor) divided by the other "
              "proxy's: for req/s higher is better for Switchyard, for CPU/req and p99 lower is better. "
              "`others on its CPU` (pinned only): how busy the proxy's CPU was beyond the proxy itself, i.e. "
              "what other processes (someone's build) took; a pinned run where that exceeded the threshold was "
              "discarded and measured again (see `discarded_runs`).")
    for mode in modes:
        md.append("")
        if mode == "pinned":
            md.append("## Pinned: proxy on CPU 0 (Switchyard runs one event loop), wrk + app servers on CPU 1")
        else:
            md.append("## Unpinned: nothing pinned; Switchyard one event loop (event_loops: 1), nginx one worker, HAProxy one thread")
        md.append("")
        md.extend(render_table(medians, mode))
        pairs = like_for_like(medians, runs, mode)
        if pairs:
            md.append("")
            md.append("Like for like: Switchyard writing its decision line against nginx and HAProxy writing an "
                      "access line per request (nginx buffered as Switchyard's writer is, 256 KiB or 10 ms; HAProxy "
                      "one write(2) per line, as it logs), and Switchyard with decisions off against the two with "
                      "no access log. Ratios are Switchyard's figure over the other's; per pass: the range of the "
                      "ratio over the passes, each pair measured within a minute of each other; the median of "
                      "those per-pass ratios with the interval that holds the true median with 95 % confidence "
                      "whatever the ratios' distribution (order statistics; with fewer than 6 passes, min-max and "
                      "the confidence it gives, 94 % with 5); how many passes read below 1.0 (with equal costs, each would be a "
                      "coin toss).")
            md.append("")
            md.extend(render_like_for_like(pairs))
        split = render_split(medians, mode)
        if split:
            md.append("")
            md.append("Where the CPU per request goes: user time (the proxy's own code) and kernel time (from the same "
                      "/proc ticks, 10 ms each), and how often the app servers went to sleep (their voluntary context "
                      "switches). On loopback the writer of a packet also pays for waking its sleeping reader, so a "
                      "proxy slower in user time pays more kernel time too (LOG.md, \"the wake-up tax\"). "
                      "Connections opened: TCP connects on the whole machine (/proc/net/snmp ActiveOpens) per "
                      "request, wrk's own included; above a few per 1,000, the proxy is opening upstream connections "
                      "(its keep-alive pool is not holding enough).")
            md.append("")
            md.extend(split)
        busy = [e for e in medians if e["mode"] == mode]
        if busy:
            md.append("")
            md.append("CPU busy during the runs (median over all runs of this mode, whole machine view from /proc/stat): "
                      f"cpu0 {fmt(median(e['cpu0_busy_pct'] for e in busy), 0)}%, "
                      f"cpu1 {fmt(median(e['cpu1_busy_pct'] for e in busy), 0)}%.")
        idle_rows = [e for e in idle if e["mode"] == mode]
        if idle_rows:
            md.append("")
            md.append(f"### 6. {idle_rows[0]['count']:,} idle keep-alive client connections")
            md.append("")
            md.extend(render_idle(idle, mode))
    if micro:
        md.append("")
        md.append("## Micro-benchmarks: the per-request decision path (deploy/bench/micro)")
        md.append("")
        md.append("Per single call: each measured iteration makes 1,000 calls and the tool divides by that "
                  "(integer results, so fewer than 0.5 allocations per call show as 0). Wall-clock time on whatever "
                  "CPU the run had; the full tables are in latest.json (`micro`).")
        md.append("")
        source = os.path.join(os.path.dirname(args.micro), "micro-source.txt")
        if os.path.exists(source):
            with open(source) as handle:
                md.append(f"Compiled from {handle.read().strip()} (the macro figures above are the copied binary's).")
                md.append("")
        md.extend(micro_summary(micro)[0])
    if meta.get("notes"):
        md.append("")
        md.append("## Notes from this run")
        md.append("")
        for note in meta["notes"]:
            md.append(f"- {note}")
    text = "\n".join(md) + "\n"
    with open(os.path.join(results, "latest.md"), "w") as handle:
        handle.write(text)
    with open(os.path.join(results, "latest.json"), "w") as handle:
        like = [row for mode in modes for row in like_for_like(medians, runs, mode)]
        json.dump({"meta": meta, "medians": medians, "like_for_like": like, "idle": idle, "runs": runs, "discarded_runs": discarded, "idle_runs": idle_runs,
                   "micro": micro}, handle, indent=1)
    columns = ["mode", "scenario", "target", "passes", "rps", "rps_min", "rps_max", "p50_ms", "p99_ms",
               "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "app_sleeps_per_1k", "connects_per_1k", "proxy_cpu_pct", "rss_mib", "rps_vs_nginx", "rps_vs_haproxy", "cpu_vs_nginx",
               "cpu_vs_haproxy", "p99_vs_nginx", "p99_vs_haproxy", "rps_vs_nginx_log", "cpu_vs_nginx_log", "p99_vs_nginx_log",
               "rps_vs_haproxy_log", "cpu_vs_haproxy_log", "p99_vs_haproxy_log", "socket_errors", "non_2xx"]
    with open(os.path.join(results, "latest.csv"), "w") as handle:
        handle.write(",".join(columns) + "\n")
        for e in medians:
            handle.write(",".join("" if e.get(c) is None else (f"{e[c]:.4g}" if isinstance(e[c], float) else str(e[c]))
                                  for c in columns) + "\n")
        handle.write("\n" + ",".join(["mode", "scenario", "target", "count", "still_open", "rss_before_mib",
                                      "rss_open_mib", "kib_per_connection", "per_conn_vs_nginx", "per_conn_vs_haproxy"]) + "\n")
        for e in idle:
            values = [e["mode"], "idle", e["target"], e["count"], e["still_open"], e["rss_before_mib"],
                      e["rss_open_mib"], e["kib_per_connection"], e.get("per_conn_vs_nginx"), e.get("per_conn_vs_haproxy")]
            handle.write(",".join("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in values) + "\n")
    # The terminal gets the tables (not the micro output, which run.sh printed already).
    print(text.split("## Micro-benchmarks")[0].rstrip())


def pool(args):
    """The like-for-like comparison over the passes of several runs together
    (their latest.json): the median of every pass's ratio and its interval."""
    runs = []
    for index, path in enumerate(args.results):
        with open(path) as handle:
            for run in json.load(handle)["runs"]:
                runs.append(dict(run, **{"pass": (index, run.get("pass"))}))
    print(f"| scenario | mode | Switchyard | against | passes | median of the passes (interval, its confidence: at least "
          f"{100 * args.confidence:.0f} % when the passes allow) | passes below 1.0 |")
    print("|---|---|---|---|--:|--:|--:|")
    comparisons = [(t, o) for t, o, _ in LIKE_FOR_LIKE] + [("switchyard", "nginx"), ("switchyard", "haproxy")]
    modes = sorted({r["mode"] for r in runs}, key=lambda m: (m != "pinned", m))
    for mode in modes:
        for scenario in SCENARIO_ORDER:
            for target, other in comparisons:
                ratios = per_pass_ratios(runs, mode, scenario, target, other, "cpu_us_per_req")
                if not ratios:
                    continue
                interval = median_interval(ratios, args.confidence)
                shown = f" ({interval[0]:.2f}-{interval[1]:.2f}, {100 * interval[2]:.0f} %)" if interval else ""
                print(f"| {SCENARIO_LABEL.get(scenario, scenario)} | {mode} | {TARGET_LABEL[target]} | {TARGET_LABEL[other]} "
                      f"| {len(ratios)} | {median(ratios):.2f}{shown} | {sum(1 for v in ratios if v < 1)} |")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snap")
    snap.add_argument("pid", type=int)
    snap.add_argument("--apps", default="", help="comma-separated pids of the app servers, whose sleeps are counted")
    rec = sub.add_parser("record")
    rec.add_argument("--before", required=True)
    rec.add_argument("--pid", type=int, required=True)
    rec.add_argument("--wrk", required=True)
    rec.add_argument("--runs", required=True)
    rec.add_argument("--proxy-cpu", type=int, help="the CPU the proxy is pinned to")
    rec.add_argument("--max-others", type=float, help="percent of the proxy's CPU others may take before the run counts as disturbed")
    rec.add_argument("--discard-disturbed", action="store_true", help="a disturbed run goes to *-discarded.jsonl, exit status 3")
    rec.add_argument("fields", nargs="*")
    rep = sub.add_parser("report")
    rep.add_argument("--state", required=True)
    rep.add_argument("--results", required=True)
    rep.add_argument("--micro")
    pooled = sub.add_parser("pool", help="CPU/req ratios over the passes of several runs' latest.json together")
    pooled.add_argument("results", nargs="+")
    pooled.add_argument("--confidence", type=float, default=0.95)
    args = parser.parse_args()
    if args.command == "snap":
        print(json.dumps(snapshot(args.pid, [int(p) for p in args.apps.split(",") if p.strip()])))
    elif args.command == "record":
        record(args)
    elif args.command == "pool":
        pool(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
