#!/usr/bin/env python3
"""Turns the JSON lines the reliability tests write (SWITCHYARD_RELIABILITY_REPORT) into a
Markdown table: fault | what was measured | result | test."""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("jsonl")
    parser.add_argument("--form", default="long")
    parser.add_argument("--started", default="")
    parser.add_argument("--finished", default="")
    parser.add_argument("--command", default="deploy/reliability/run.sh")
    parser.add_argument("--machine", default="")
    args = parser.parse_args()
    rows = []
    with open(args.jsonl, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    out = sys.stdout
    out.write(f"# Reliability suite: {args.form} form\n\n")
    out.write(f"Run {args.started} – {args.finished} on {args.machine}; loopback only.\n")
    out.write(f"Reproduce: `{args.command}`.\n\n")
    out.write("| fault | what was measured | result | test |\n| --- | --- | --- | --- |\n")
    for row in rows:
        cells = [row.get("fault", ""), row.get("measured", ""), row.get("result", ""), "`" + row.get("test", "") + "`"]
        out.write("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |\n")
    if not rows:
        out.write("| (no figures: the tests did not run or wrote nothing) | | | |\n")


if __name__ == "__main__":
    main()
