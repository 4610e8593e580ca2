"""Aggregates refcounts.sh's recorded swift_retain/swift_release calls by the
object's type and the calling function (see refcounts.sh)."""
import bisect
import collections
import re
import subprocess
import sys


def symbols(binary):
    table = []
    listing = subprocess.run(["nm", "-n", binary], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            try:
                table.append((int(parts[0], 16), parts[2]))
            except ValueError:
                pass
    table.sort()
    return table


def demangle(names):
    out = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                         capture_output=True, text=True).stdout.splitlines()
    return dict(zip(names, out)) if len(out) == len(names) else {n: n for n in names}


def main():
    binary, base_hex, calls, requests = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    base = int(base_hex, 16)
    table = symbols(binary)
    starts = [a for a, _ in table]
    end = table[-1][0] if table else 0

    def name_at(address):
        i = bisect.bisect_right(starts, address) - 1
        return table[i][1] if i >= 0 else "?"

    # Calls from our modules only, or (a fifth argument "all") from every
    # caller, SwiftNIO's included.
    every_caller = len(sys.argv) > 5 and sys.argv[5] == "all"
    ours = re.compile(r"" if every_caller else r"^\$s\d+(HTTPProxy|SwitchyardApp|SwitchyardLogging|SwitchyardCore|AdminServer|LagMonitor)")
    counts = collections.Counter()
    pattern = re.compile(r"probe_refcounts:(retain|release).*?obj=0x([0-9a-f]+) meta=(\d+|\(fault\)) ret=(\d+)")
    for line in open(calls):
        match = pattern.search(line)
        if not match:
            continue
        kind, obj, meta, ret = match.groups()
        if int(obj, 16) == 0:
            continue
        caller = name_at(int(ret) - base)
        if not ours.match(caller):
            continue
        if meta == "(fault)" or int(meta) == 0:
            what = "not a class instance"
        elif 0 <= int(meta) - base <= end:
            what = name_at(int(meta) - base)
        else:
            what = "(runtime object)"
        counts[(kind, what, caller)] += 1
    names = demangle(sorted({n for _, w, c in counts for n in (w, c) if n.startswith("$s")}))
    print(f"{'per request':>11}  {'call':7}  {'object (its metadata symbol)':60}  caller")
    for (kind, what, caller), n in sorted(counts.items(), key=lambda item: -item[1]):
        if n / requests < 0.5:
            continue
        print(f"{n / requests:11.1f}  {kind:7}  {names.get(what, what)[:60]:60}  {names.get(caller, caller)[:90]}")


main()
