"""Reads pip-audit's JSON and says what it really checked.

pip-audit prints "No known vulnerabilities found" even when it could look up
no package at all (every one skipped: no vulnerability service reachable).
Here a skipped package counts as not checked, never as passed.

Exit status: 0 every package checked and none vulnerable; 1 a known
vulnerability (or unreadable output); 2 no vulnerability found in what was
checked, but some packages could not be checked."""
from __future__ import annotations

import json
import sys


def verdict(report: dict) -> tuple[int, list[str]]:
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    checked = len(dependencies) - len(skipped)
    lines = [f"pip-audit: {checked} of {len(dependencies)} packages checked for known vulnerabilities."]
    for dependency in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in dependency["vulns"])
        lines.append(f"VULNERABLE: {dependency['name']} {dependency.get('version', '')}: {ids}")
    if skipped:
        lines.append(f"NOT CHECKED: {len(skipped)} packages could not be looked up, so nothing is known about them:")
        lines.extend(f"  {d['name']}: {d['skip_reason']}" for d in skipped)
    if vulnerable:
        return 1, lines
    if skipped or not dependencies:
        if not dependencies:
            lines.append("NOT CHECKED: pip-audit listed no packages.")
        return 2, lines
    lines.append("No known vulnerabilities in any of them.")
    return 0, lines


def main(argv: list[str]) -> int:
    try:
        with open(argv[1], encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError, IndexError) as error:
        log = ""
        if len(argv) > 2:
            try:
                with open(argv[2], encoding="utf-8") as f:
                    log = f.read()[-2000:]
            except OSError:
                pass
        print(f"pip-audit gave no readable report ({error}). {log}".strip())
        return 1
    status, lines = verdict(report)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
