"""Professionals register themselves (SPEC section 1) and wait for the LA to
verify them before they see any child."""
from sqlalchemy import func, select

from send_portal.extensions import db
from send_portal.models import AuditEntry, User

from .conftest import row_names, text

GOOD = {
    "given_name": "Ruth",
    "family_name": "Ellis",
    "email": "Ruth.Ellis@Riverside.example",
    "organisation": "Riverside Primary School",
    "professional_type": "senco",
    "password": "three random words here",
    "password_confirm": "three random words here",
}


def register(client_request, **changes):
    data = {**GOOD, **changes}
    return client_request.post("/register", data)


def error_summary(response):
    from .conftest import ClientRequest

    page = ClientRequest.parse(response)
    summary = page.find(class_="govuk-error-summary")
    return page, {a["href"]: text(a) for a in summary.find_all("a")} if summary else {}


def test_sign_in_page_offers_to_create_an_account(client_request):
    page = client_request.get("/sign-in")
    link = page.find("a", string="Create an account")
    assert link["href"] == "/register"
    form = client_request.get(link["href"])
    assert text(form.find("h1")) == "Create an account"
    labels = {text(label) for label in form.find_all("label")}
    for label in ("Given name", "Family name", "Work email address", "Organisation", "Create a password", "Confirm your password", "SENCo"):
        assert label in labels
    assert text(form.find("legend")) == "Professional type"
    assert form.find("input", attrs={"name": "csrf_token", "type": "hidden"})


def test_a_professional_registers_and_is_signed_in_to_wait_for_verification(client_request, make_person):
    response = register(client_request)
    assert response.status_code == 303 and response.headers["Location"] == "/home"
    user = db.session.scalar(select(User).where(User.email == "ruth.ellis@riverside.example"))
    assert user is not None, "the address is kept in lower case"
    assert (user.role, user.verification, user.professional_type, user.organisation) == ("professional", "pending", "senco", "Riverside Primary School")
    assert user.password_hash and "three random words" not in user.password_hash

    home = client_request.get("/home")
    assert "waiting for Demo Borough Council to verify it" in text(home.find(class_="govuk-inset-text"))
    # Even with an involvement, an unverified professional sees no child.
    make_person("Amelia", "Jones", user)
    page = client_request.get("/send/select-person")
    assert row_names(page) == []
    assert "waiting for" in text(page.find(class_="govuk-inset-text"))

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "Professional registered"))
    assert entry.changed_by_id == user.id and entry.professional_portal_name == "ruth.ellis@riverside.example"
    assert entry.professional_given_name == "Ruth"


def test_the_new_professional_can_sign_in_again_at_once(client_request, client):
    register(client_request)
    client_request.post("/sign-out")
    user = db.session.scalar(select(User).where(User.email == "ruth.ellis@riverside.example"))
    client_request.sign_in(user, password=GOOD["password"])
    assert "waiting for" in text(client_request.get("/home").find(class_="govuk-inset-text"))


def test_every_empty_field_is_named_and_linked(client_request):
    response = client_request.post("/register", {})
    assert response.status_code == 400
    page, errors = error_summary(response)
    assert errors == {
        "#given_name": "Enter your given name",
        "#family_name": "Enter your family name",
        "#email": "Enter your work email address",
        "#organisation": "Enter the name of your organisation",
        "#professional_type-0": "Select your professional type",
        "#password": "Enter a password",
        "#password_confirm": "Enter your password again",
    }
    assert page.title.string.startswith("Error:")
    for field_id in ("given_name", "email", "professional_type-0", "password"):
        assert page.find(id=field_id), f"the summary links to a field that exists: {field_id}"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "professional")) == 0


def test_email_addresses_are_unique_regardless_of_case(client_request, professional):
    response = register(client_request, email=professional.email.upper())
    assert response.status_code == 400
    _page, errors = error_summary(response)
    assert errors["#email"].startswith("An account already exists with this email address")
    assert db.session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == professional.email)) == 1


def test_password_rules(client_request):
    cases = {
        "short": ("too short", "too short", "Password must be 12 characters or more"),
        "common": ("Password1234", "Password1234", "Password is too easy to guess. Try three or four random words"),
        "repeated": ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "Password is too easy to guess. Try three or four random words"),
        "email": ("ruth.ellis@riverside.example", "ruth.ellis@riverside.example", "Password must not be your email address"),
        "long": ("x1y2" * 40, "x1y2" * 40, "Password must be 128 characters or fewer"),
        "mismatch": ("three random words here", "three random words there", None),
    }
    for name, (password, confirm, message) in cases.items():
        response = register(client_request, password=password, password_confirm=confirm)
        assert response.status_code == 400, name
        _page, errors = error_summary(response)
        if message:
            assert errors["#password"] == message, name
        else:
            assert errors == {"#password_confirm": "Passwords do not match"}
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "professional")) == 0


def test_bad_email_and_professional_type_get_messages_not_500(client_request):
    response = register(client_request, email="not an email", professional_type="wizard", given_name="x" * 101)
    assert response.status_code == 400
    _page, errors = error_summary(response)
    assert errors["#email"] == "Enter an email address in the correct format, like name@school.example"
    assert errors["#professional_type-0"] == "Select your professional type"
    assert errors["#given_name"] == "Given name must be 100 characters or fewer"


def test_answers_are_kept_after_an_error_but_passwords_are_not(client_request):
    response = register(client_request, organisation="")
    page, _errors = error_summary(response)
    assert page.find(id="given_name")["value"] == "Ruth"
    assert page.find(id="email")["value"] == "ruth.ellis@riverside.example"
    assert page.find(id="professional_type-0").has_attr("checked")
    assert not page.find(id="password").get("value")


def test_registering_needs_a_csrf_token(client_request):
    response = client_request.post("/register", GOOD, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "ruth.ellis@riverside.example")) is None


def test_signed_in_users_are_sent_home(client_request, professional):
    client_request.sign_in(professional)
    response = client_request.get_response("/register")
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_once_verified_the_professional_sees_their_children(client_request, admin, make_person):
    register(client_request)
    user = db.session.scalar(select(User).where(User.email == "ruth.ellis@riverside.example"))
    make_person("Amelia", "Jones", user)
    client_request.post("/sign-out")
    client_request.sign_in(admin)
    client_request.post(f"/admin/professionals/{user.id}/verify", expected_status=303)
    client_request.post("/sign-out")
    client_request.sign_in(user, password=GOOD["password"])
    assert row_names(client_request.get("/send/select-person")) == ["Amelia Jones"]
