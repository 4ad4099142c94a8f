"""The demo authority is what the README promises."""
import re

from send_portal.models import User


def test_the_demo_senco_sees_over_100_children_in_active(app, runner, client_request):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    senco = User.query.filter_by(email="senco@demo-la.example").one()
    client_request.sign_in(senco, password=re.search(r"password is: (\S+)", result.output).group(1))
    page = client_request.get("/send/select-person")
    count = page.find(id="caseload-count").get_text(" ", strip=True)
    total = int(re.search(r"of ([\d,]+) people", count).group(1).replace(",", ""))
    assert total > 100, count
