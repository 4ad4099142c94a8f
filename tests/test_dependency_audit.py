"""The dependency audit says what it really checked (issue 12, item 10):
pip-audit prints "No known vulnerabilities found" when it looked up nothing."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dependency_audit.py"


def audit(tmp_path, report) -> tuple[int, str]:
    path = tmp_path / "report.json"
    path.write_text(report if isinstance(report, str) else json.dumps(report))
    done = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout


def test_nothing_looked_up_is_reported_as_not_checked_not_as_a_pass(tmp_path):
    report = {"dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"},
        {"name": "jinja2", "skip_reason": "Dependency not found on PyPI and could not be audited: jinja2 (3.1.6)"},
    ], "fixes": []}
    status, out = audit(tmp_path, report)
    assert status == 2
    assert "0 of 2 packages checked" in out and "NOT CHECKED: 2 packages" in out
    assert "No known vulnerabilities" not in out


def test_some_not_looked_up_is_still_not_a_pass(tmp_path):
    report = {"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "jinja2", "skip_reason": "could not be audited"},
    ]}
    status, out = audit(tmp_path, report)
    assert status == 2 and "1 of 2 packages checked" in out and "jinja2" in out


def test_a_known_vulnerability_fails(tmp_path):
    report = {"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.1.4"]}]},
        {"name": "jinja2", "skip_reason": "could not be audited"},
    ]}
    status, out = audit(tmp_path, report)
    assert status == 1 and "VULNERABLE: flask 3.1.3: GHSA-xxxx" in out


def test_everything_checked_and_clean_passes(tmp_path):
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
    status, out = audit(tmp_path, report)
    assert status == 0 and "1 of 1 packages checked" in out and "No known vulnerabilities" in out


@pytest.mark.parametrize("report", ["", "not json", json.dumps({"dependencies": []})])
def test_no_readable_report_is_never_a_pass(tmp_path, report):
    status, _ = audit(tmp_path, report)
    assert status != 0
