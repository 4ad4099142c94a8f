"""Lightweight browsers: the first load of Select Person stays within 50 KB."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_first_load_of_select_person_is_within_50_kb_gzipped():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/page_weight.py")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first load" in result.stdout


def test_nothing_blocks_rendering_but_the_css(client):
    from bs4 import BeautifulSoup

    head = BeautifulSoup(client.get("/sign-in").get_data(as_text=True), "html.parser").head
    for script in head.find_all("script"):
        assert script.has_attr("defer") or script.has_attr("async"), script
    assert not head.find("link", rel="preload", attrs={"as": "font"})
    css = (ROOT / "static/css/portal.css").read_text()
    assert "@font-face" not in css and "GDS Transport" not in css
