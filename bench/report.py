"""`python -m bench.report RESULTS.json`: the figures of a run as Markdown
tables, for docs/PERFORMANCE.md."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def markdown(report: dict) -> str:
    m, s = report["machine"], report["settings"]
    lines = [
        f"Run of {report['started']}, {report['size']} size. Machine: {m.get('cpu', '?')}, {m['cores']} cores, "
        f"{m.get('memory_gib', '?')} GiB, {m['platform']}, Python {m['python']}, gunicorn {m.get('gunicorn')}; "
        f"load average {report['load_before'][0]} at the start and {report['load_after'][0]} at the end. "
        f"{s['workers']} workers, {s['clients']} client threads, {s['rounds']} rounds of {s['seconds']} s "
        f"per side and scenario.",
        "",
    ]
    for run in report["runs"]:
        b = run["build"]
        lines += [
            f"**{run['engine']} {run.get('version', '')}**: {b['people']:,} people, {b['involvements']:,} involvements; "
            + ", ".join(f"{g} {c['active']:,} in Active" for g, c in b["caseloads"].items()) + ".",
            "",
            "| caseload | request | app p50 ms | app p95 ms | app req/s | floor p50 ms | floor p95 ms | floor req/s "
            "| p50 × | p95 × | req/s share | bytes | gzip |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for row in run["scenarios"]:
            a, f, r = row["app"], row["floor"] or {}, row["ratio"] or {}
            lines.append(
                f"| {row['group']} | {row['kind']} | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | {a['rps']:.1f} "
                f"| {f.get('p50_ms', 0):.1f} | {f.get('p95_ms', 0):.1f} | {f.get('rps', 0):.1f} "
                f"| {r.get('p50', 0):.2f} | {r.get('p95', 0):.2f} | {(r.get('rps_share') or 0):.0%} "
                f"| {a['bytes_raw']:,} | {a['bytes_gzip']:,} |"
            )
        lines.append("")
        if run.get("targets"):
            lines.append("| target | value | met |")
            lines.append("|---|--:|---|")
            for t in run["targets"]:
                lines.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
            lines.append("")
        fl = run.get("first_load")
        if fl:
            lines.append("First load of Select Person: " + ", ".join(
                f"`{k}` {v['raw']:,} B ({v['gzip']:,} B gzip)" for k, v in fl.items() if k != "total")
                + f"; **total {fl['total']['raw']:,} B, {fl['total']['gzip']:,} B gzipped**.")
            lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    for path in args:
        print(markdown(json.loads(Path(path).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
