#!/usr/bin/env python3
"""Instruction counts per request from callgrind dumps (deploy/bench/run.sh --callgrind).

  callgrind.py record --dump FILE --wrk FILE --target NAME --out FILE.jsonl
  callgrind.py report --state DIR --results DIR
  callgrind.py diff OLD.json NEW.json [--target NAME]   what changed, function by function
  callgrind.py lines --dump FILE --wrk FILE --binary BIN FUNCTION   a function's own instructions by source line

A callgrind dump counts every instruction the process executed while it was
being measured (all its threads: event loops, log writer, lag poller); wrk's
output says how many requests that was. The counts do not depend on what
else the machine runs, which the CPU time per request of the wrk runs does,
so a change of a few percent shows up here where the timed runs cannot see it.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter

# Swift's reference counting: an atomic read-modify-write each (swift_retain,
# swift_release), and the string/array variants (bridgeObject: no atomic when
# the value is a small string or an immortal object).
REFCOUNT = (
    "swift_retain", "swift_release", "swift_retain_n", "swift_release_n",
    "swift_bridgeObjectRetain", "swift_bridgeObjectRelease",
    "swift_bridgeObjectRetain_n", "swift_bridgeObjectRelease_n",
)
EXCLUSIVITY = ("swift_beginAccess",)
ALLOCATION = ("swift_allocObject", "malloc")


def walk_dump(path, summary=None):
    """Each cost line of a callgrind dump, as (function, callee, calls,
    address, cost): `calls` is the call count when the line is a call's
    inclusive cost (to `callee`), None when it is the function's own;
    `address` is the line's first position (an instruction's address when
    the dump was made with --dump-instr=yes). `summary`, a list, receives the
    dump's total when it states one."""
    names = {}
    current = ""
    callee = ""
    calls = None
    last = 0
    name_line = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")
    with open(path, errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\n")
            match = name_line.match(line)
            if match:
                kind, ident, name = match.groups()
                if name:
                    names[ident] = name
                if kind == "fn":
                    current = names.get(ident, "?")
                else:
                    callee = names.get(ident, "?")
                continue
            if line.startswith("calls="):
                calls = int(line.split("=", 1)[1].split()[0])
                continue
            if line.startswith("summary:"):
                # What callgrind_annotate reports ("totals:" at the end also counts the dump's own work).
                if summary is not None:
                    summary.append(int(line.split(":", 1)[1].split()[0]))
                continue
            if not line or not (line[0].isdigit() or line[0] in "+-*"):
                continue
            # A position relative to the line before starts with + or - (* is the same one).
            parts = line.split()
            position = parts[0]
            if position == "*":
                address = last
            elif position[0] in "+-":
                address = last + int(position, 0)
            else:
                address = int(position, 0)
            last = address
            if len(parts) >= 2:
                yield current, callee, calls, address, int(parts[-1])
            calls = None


def parse_dump(path):
    """Total instructions, self instructions by function, calls by callee."""
    summary = []
    self_cost = Counter()
    calls = Counter()
    for function, callee, count, _, cost in walk_dump(path, summary):
        if count is None:
            self_cost[function] += cost
        else:
            calls[callee] += count
    total = summary[0] if summary else sum(self_cost.values())
    return total, self_cost, calls


def wrk_requests(path):
    with open(path, errors="replace") as handle:
        for line in handle:
            match = re.match(r"\s*(\d+) requests in", line)
            if match:
                return int(match.group(1))
    return 0


def record(args):
    requests = wrk_requests(args.wrk)
    if requests == 0:
        print(f"callgrind.py: no requests in {args.wrk}", file=sys.stderr)
        return 1
    total, self_cost, calls = parse_dump(args.dump)
    per = lambda value: value / requests
    row = {
        "target": args.target,
        "requests": requests,
        "instructions_per_request": round(per(total)),
        "refcount_calls_per_request": round(per(sum(calls[name] for name in REFCOUNT)), 1),
        "atomic_refcount_calls_per_request": round(per(sum(calls[name] for name in REFCOUNT if "bridge" not in name)), 1),
        "exclusivity_checks_per_request": round(per(sum(calls[name] for name in EXCLUSIVITY)), 1),
        "allocations_per_request": round(per(sum(calls[name] for name in ALLOCATION)), 2),
        # Every function's own instructions per request (from 1 up), and the
        # calls per request to every callee (from 0.5 up): what `report` lists
        # and `diff` compares.
        "self_instructions": {
            name: round(per(cost)) for name, cost in self_cost.items() if per(cost) >= 1
        },
        "calls": {
            name: round(per(count), 1) for name, count in calls.items() if per(count) >= 0.5
        },
    }
    with open(args.out, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    print(f"   {args.target:17} {requests:>8,} requests  {row['instructions_per_request']:>7,} instructions/request"
          + (f"  {row['atomic_refcount_calls_per_request']:.0f} retains+releases/request"
             if row["atomic_refcount_calls_per_request"] else ""))
    return 0


def short(name):
    """A Swift symbol as its module and first identifiers (enough to recognise it)."""
    match = re.match(r"\$s(\d+)", name)
    if not match:
        return name[:70]
    rest = name[2:]
    pieces = []
    while rest and len(pieces) < 3:
        number = re.match(r"(\d+)", rest)
        if not number:
            break
        length = int(number.group(1))
        start = len(number.group(1))
        piece = rest[start:start + length]
        if not re.fullmatch(r"_[0-9A-F]{32}", piece):  # a private declaration's discriminator
            pieces.append(piece)
        rest = rest[start + length:]
        rest = re.sub(r"^[A-Z][A-Za-z]?(?=\d)", "", rest)
    return ".".join(pieces) or name[:70]


def report(args):
    rows_path = os.path.join(args.state, "callgrind.jsonl")
    rows = [json.loads(line) for line in open(rows_path) if line.strip()]
    meta = {}
    meta_path = os.path.join(args.state, "callgrind-meta.json")
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
    by_target = {row["target"]: row for row in rows}

    def ratio(target, reference):
        if target in by_target and reference in by_target:
            return by_target[target]["instructions_per_request"] / by_target[reference]["instructions_per_request"]
        return None

    lines = ["# Instructions per request (callgrind)", ""]
    if meta:
        lines += [
            f"{meta.get('started', '?')} to {meta.get('finished', '?')}, `{meta.get('command', '')}`; "
            f"{meta.get('valgrind', 'valgrind')}; Switchyard {meta.get('switchyard_binary', '?')}, {meta.get('git', '')}.",
            "",
        ]
    lines += [
        "Small keep-alive GETs, each proxy alone under `valgrind --tool=callgrind` on CPU 0 "
        "(wrk on CPU 1, " + meta.get("wrk_settings", "?") + "): everything the process executed "
        "while measured (all its threads), divided by the requests wrk completed. Unlike CPU time, "
        "these counts do not move with what else the machine runs. They are not time: an atomic "
        "retain or release costs ~20 cycles, a byte-scanning loop instruction well under one.",
        "",
        "| proxy | requests | instructions / request | ÷ nginx | ÷ nginx logging | retains + releases / request | exclusivity checks / request |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    def cell(value):
        return "-" if value is None else f"{value:.2f}"

    order = ["switchyard", "switchyard-nolog", "nginx", "nginx-log", "haproxy", "haproxy-log", "nio-floor"]
    for target in sorted(by_target, key=lambda name: order.index(name) if name in order else 99):
        row = by_target[target]
        nginx, logged = ratio(target, "nginx"), ratio(target, "nginx-log")
        swift = row["atomic_refcount_calls_per_request"] or row["exclusivity_checks_per_request"]
        counts = (f"{row['atomic_refcount_calls_per_request']:.0f} | {row['exclusivity_checks_per_request']:.0f} |"
                  if swift else "- | - |")
        lines.append(f"| {target} | {row['requests']:,} | {row['instructions_per_request']:,} | "
                     f"{cell(nginx)} | {cell(logged)} | {counts}")
    if "switchyard" in by_target:
        lines += ["", "Switchyard's own instructions per request, by function (self cost, the 25 largest):", "",
                  "| function | instructions / request |", "|---|--:|"]
        own = Counter(by_target["switchyard"]["self_instructions"])
        for name, instructions in own.most_common(25):
            lines.append(f"| `{short(name)}` | {instructions:,} |")
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "callgrind.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    with open(os.path.join(args.results, "callgrind.json"), "w") as handle:
        json.dump({"meta": meta, "targets": rows}, handle, indent=1)
    print("\n".join(lines))
    return 0


def diff(args):
    """Two callgrind.json files (a `--callgrind` run before and after a change):
    the totals, then the functions whose own instructions per request moved most."""
    def load(path):
        rows = json.load(open(path))["targets"]
        return {row["target"]: row for row in rows}
    old, new = load(args.old), load(args.new)
    if args.target not in old or args.target not in new:
        print(f"callgrind.py: {args.target} is not in both files", file=sys.stderr)
        return 1
    before, after = old[args.target], new[args.target]
    for key in ("instructions_per_request", "atomic_refcount_calls_per_request", "exclusivity_checks_per_request",
                "allocations_per_request"):
        print(f"{key:36} {before.get(key, 0):>10,} -> {after.get(key, 0):>10,}")
    if "self_instructions" not in before or "self_instructions" not in after:
        print("(a file from before per-function counts were kept: totals only)")
        return 0
    def by_function(row):
        # Specializations of one function (for another type, another caller)
        # count as that function.
        totals = Counter()
        for name, value in row["self_instructions"].items():
            totals[short(name)] += value
        return totals
    old_costs, new_costs = by_function(before), by_function(after)
    names = set(old_costs) | set(new_costs)
    moved = sorted(names, key=lambda name: -abs(new_costs[name] - old_costs[name]))
    print(f"\n{'before':>8} {'after':>8} {'change':>8}  function (own instructions per request)")
    for name in moved[: args.most]:
        a, b = old_costs[name], new_costs[name]
        if a == b:
            break
        print(f"{a:>8,} {b:>8,} {b - a:>+8,}  {name}")
    return 0


def lines(args):
    """Where the own instructions of the functions whose names contain
    FUNCTION go, by source line, per request. The dump must hold each
    instruction's address (run.sh records with --dump-instr=yes). valgrind
    ran a copy of the binary without its debug information (it cannot read
    Swift's DWARF 5); the copy keeps the addresses, so `addr2line` reads the
    lines from the binary it was made from. Code inlined from another function
    counts at its own line: the innermost frame, with the outermost one named
    beside it (`<compiler-generated>`: code the compiler wrote, such as
    copies and releases of values)."""
    import subprocess
    requests = wrk_requests(args.wrk)
    if requests == 0:
        print(f"callgrind.py: no request count in {args.wrk}", file=sys.stderr)
        return 1
    costs = Counter()
    for function, _, count, address, cost in walk_dump(args.dump):
        if count is None and args.function in function:
            costs[address] += cost
    if not costs:
        print(f"callgrind.py: no instruction of a function matching {args.function!r} "
              "(or the dump has no addresses: --dump-instr=yes)", file=sys.stderr)
        return 1
    addresses = sorted(costs)
    output = subprocess.run(["addr2line", "-a", "-i", "-e", args.binary] + [hex(a) for a in addresses],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    by_line = Counter()
    outermost = {}
    address, frames = None, []
    def settle():
        if address is not None and frames:
            by_line[frames[0]] += costs[address]
            outermost.setdefault(frames[0], frames[-1])
    for row in output:
        if row.startswith("0x"):
            settle()
            address, frames = int(row, 16), []
        elif row.strip():
            frames.append(re.sub(r".*/", "", row.strip()))
    settle()
    total = sum(costs.values())
    print(f"{total / requests:,.0f} own instructions per request in functions matching {args.function!r}")
    print(f"{'per request':>12}  line (inlined into)")
    for where, cost in by_line.most_common(args.most):
        inlined = f"  ({outermost[where]})" if outermost[where] != where else ""
        print(f"{cost / requests:>12,.1f}  {where}{inlined}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("--dump", required=True)
    rec.add_argument("--wrk", required=True)
    rec.add_argument("--target", required=True)
    rec.add_argument("--out", required=True)
    rep = commands.add_parser("report")
    rep.add_argument("--state", required=True)
    rep.add_argument("--results", required=True)
    dif = commands.add_parser("diff")
    dif.add_argument("old")
    dif.add_argument("new")
    dif.add_argument("--target", default="switchyard")
    dif.add_argument("--most", type=int, default=30)
    lin = commands.add_parser("lines")
    lin.add_argument("--dump", required=True)
    lin.add_argument("--wrk", required=True)
    lin.add_argument("--binary", required=True)
    lin.add_argument("function")
    lin.add_argument("--most", type=int, default=30)
    args = parser.parse_args()
    return {"record": record, "report": report, "diff": diff, "lines": lines}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
