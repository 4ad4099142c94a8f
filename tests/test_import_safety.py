"""What a hostile tester found in the command line (issue 12): an import that
brought back a child the professional had deleted, names whose folded words
outgrow the filter's column, and control characters in the CSV files. Run
on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL (where the last two
crashed)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from send_portal import audit
from send_portal.extensions import db
from send_portal.models import Address, AuditEntry, Involvement, InvolvementStatus, Person, PersonNameToken, User
from send_portal.names import TOKEN_MAX, name_tokens, query_terms

from .conftest import ClientRequest, row_names, text

HEADER = "la_reference,given_name,family_name,date_of_birth,gender,postcode,case_status,professional_email,involvement_start,involvement_end,last_activity"
ADDRESS_HEADER = "uprn,address_line_1,address_line_2,town,postcode"


def write(tmp_path, *lines, name="people.csv", header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join((header,) + lines) + "\n", encoding="utf-8")
    return str(path)


def import_people(runner, path, *options):
    return runner.invoke(args=["import-people", *options, path])


def involvements_of(professional, person):
    return db.session.scalars(
        select(Involvement)
        .where(Involvement.professional_id == professional.id, Involvement.person_id == person.id)
        .order_by(Involvement.id)
    ).all()


def person_with_reference(reference):
    return db.session.scalar(select(Person).where(Person.la_reference == reference))


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def first_import(runner, professional, tmp_path):
    """The authority's file, imported once: Amelia and Oliver with Sam Patel."""
    path = write(
        tmp_path,
        f"LA1,Amelia,Jones,2015-03-14,F,,EHC plan issued,{professional.email},2024-09-01,,",
        f"LA2,Oliver,Brown,2014-05-06,M,,,{professional.email},2024-09-01,,",
    )
    result = import_people(runner, path)
    assert result.exit_code == 0, result.output
    return path


def delete_from_caseload(client_request, professional, person):
    client_request.sign_in(professional)
    client_request.post(
        "/send/select-person/delete",
        {"person_id": str(person.id), "view": "active", "confirmed": "yes"},
        expected_status=303,
    )


# --- 1. an import never gives back a child who was taken away ---------------------


def test_importing_the_same_file_again_does_not_bring_back_a_deleted_child(
    runner, client_request, professional, first_import, tmp_path
):
    amelia = person_with_reference("LA1")
    delete_from_caseload(client_request, professional, amelia)
    # The file has moved on meanwhile: Oliver's status changed and a new child.
    path = write(
        tmp_path,
        f"LA1,Amelia,Jones,2015-03-14,F,,Plan ceased,{professional.email},2024-09-01,,",
        f"LA2,Oliver,Brown,2014-05-06,M,,Assessment in progress,{professional.email},2024-09-01,,",
        f"LA3,Isla,Nowak,2016-07-08,F,,,{professional.email},,,",
        name="again.csv",
    )
    result = import_people(runner, path)

    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("line 2:")]
    assert len(skipped) == 1, result.output
    assert "skipped" in skipped[0] and "deleted Amelia Jones" in skipped[0] and "--reauthenticate" in skipped[0]
    assert "Imported 2 people: 1 created, 1 updated" in result.output
    assert "1 row skipped" in result.output
    # Amelia's involvement stays deleted, and the skipped row changed nothing.
    [involvement] = involvements_of(professional, amelia)
    assert involvement.status == InvolvementStatus.UNAUTHENTICATED.value and involvement.deleted_at is not None
    db.session.refresh(amelia)
    assert amelia.case_status == "EHC plan issued"
    # The rest of the file was imported.
    assert person_with_reference("LA2").case_status == "Assessment in progress"
    assert person_with_reference("LA3") is not None
    # And the professional does not see her again.
    assert row_names(client_request.get("/send/select-person")) == ["Oliver Brown", "Isla Nowak"]
    client_request.get(f"/send/people/{amelia.id}", expected_status=404)
    assert count(AuditEntry, AuditEntry.action == audit.REAUTHENTICATED) == 0


def test_importing_again_does_not_undo_the_las_unauthentication(
    runner, client_request, admin, professional, first_import
):
    client_request.sign_in(admin)
    client_request.post(
        f"/admin/professionals/{professional.id}/unauthenticate-caseload", {"expected_count": "2"}, expected_status=303
    )
    result = import_people(runner, first_import)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "line 2: skipped" in out and "line 3: skipped" in out and "unauthenticated" in out
    assert "Imported 0 people" in out and "2 rows skipped" in out
    statuses = [i.status for i in db.session.scalars(select(Involvement))]
    assert statuses == [InvolvementStatus.UNAUTHENTICATED.value] * 2


def test_importing_does_not_authenticate_a_declined_involvement(runner, professional, make_person, tmp_path):
    child = make_person("Amelia", "Jones", professional, status=InvolvementStatus.DECLINED.value)
    path = write(tmp_path, f"{child.la_reference},Amelia,Jones,2015-03-14,F,,,{professional.email},,,")
    result = import_people(runner, path)

    assert result.exit_code == 0, result.output
    assert "line 2: skipped" in result.output and "declined" in result.output
    assert [i.status for i in involvements_of(professional, child)] == [InvolvementStatus.DECLINED.value]


def test_reauthenticate_gives_the_children_back_with_one_audit_entry_each(
    runner, client_request, professional, first_import
):
    amelia, oliver = person_with_reference("LA1"), person_with_reference("LA2")
    client_request.sign_in(professional)
    client_request.post(
        "/send/select-person/delete",
        {"person_id": [str(amelia.id), str(oliver.id)], "view": "active", "confirmed": "yes"},
        expected_status=303,
    )
    result = import_people(runner, first_import, "--reauthenticate")

    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    assert "2 re-authenticated" in result.output
    for child in (amelia, oliver):
        # The involvement the LA's own re-authentication revives: one, live again.
        [involvement] = involvements_of(professional, child)
        assert involvement.status == InvolvementStatus.AUTHENTICATED.value
        assert involvement.deleted_at is None and involvement.hidden_at is None
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == audit.REAUTHENTICATED)).all()
    assert sorted(e.person_name for e in entries) == ["Amelia Jones", "Oliver Brown"]
    assert {e.changed_by.email for e in entries} == {"sysadmin"}
    assert {e.professional_portal_name for e in entries} == {professional.email}
    assert all("import-people" in e.details for e in entries)
    assert row_names(client_request.get("/send/select-person")) == ["Oliver Brown", "Amelia Jones"]
    # Running it once more changes nothing and writes no more entries.
    again = import_people(runner, first_import, "--reauthenticate")
    assert again.exit_code == 0, again.output
    assert "skipped" not in again.output and "re-authenticated" not in again.output
    assert count(AuditEntry, AuditEntry.action == audit.REAUTHENTICATED) == 2


def test_reauthenticate_skips_a_professional_whose_account_is_deactivated(
    app, runner, client_request, admin, professional, first_import
):
    delete_from_caseload(client_request, professional, person_with_reference("LA1"))
    as_admin = ClientRequest(app.test_client())
    as_admin.sign_in(admin)
    as_admin.post(f"/admin/professionals/{professional.id}/deactivate", {}, expected_status=303)
    result = import_people(runner, first_import, "--reauthenticate")

    assert result.exit_code == 0, result.output
    assert "line 2: skipped" in result.output and "deactivated" in result.output
    [involvement] = involvements_of(professional, person_with_reference("LA1"))
    assert involvement.deleted_at is not None
    assert count(AuditEntry, AuditEntry.action == audit.REAUTHENTICATED) == 0


# --- 4c. names whose folded words outgrow person_name_token.token -------------------

# Each folds to more characters than it has: "ß" -> "ss", "ﬃ" -> "ffi".
LONG_GIVEN = "ß" * 60  # 60 characters, folded 120
LONG_FAMILY = "Jo" + "ﬃ" * 40  # 42 characters, folded 122


def test_name_tokens_never_outgrow_their_column():
    assert TOKEN_MAX == PersonNameToken.__table__.c.token.type.length
    tokens = name_tokens(LONG_GIVEN) + name_tokens(LONG_FAMILY) + name_tokens("x" * 300 + "-" + "y" * 300)
    assert tokens and all(len(t) <= TOKEN_MAX for t in tokens)
    assert len(set(name_tokens("a" * 150 + "-" + "a" * 150))) == len(name_tokens("a" * 150 + "-" + "a" * 150))
    # A typed word is cut the same way, so it still starts the stored word.
    [term] = query_terms("ss" * 70)
    assert term == name_tokens(LONG_GIVEN)[0]


def test_import_of_names_that_fold_long_is_imported_and_found(runner, client_request, professional, tmp_path):
    path = write(tmp_path, f"LA1,{LONG_GIVEN},{LONG_FAMILY},2015-03-14,F,,,{professional.email},,,")
    result = import_people(runner, path)
    assert result.exit_code == 0, result.output
    person = person_with_reference("LA1")
    assert person.given_name == LONG_GIVEN
    client_request.sign_in(professional)
    full_name = f"{LONG_GIVEN} {LONG_FAMILY}"
    for typed in ("ss", "s" * 120, "s" * 130, "joffiffi", "jo" + "ffi" * 40, "ß" * 70 + " joﬃ"):
        assert row_names(client_request.get("/send/select-person", query_string={"q": typed})) == [full_name], typed


def test_add_person_and_edit_person_with_names_that_fold_long(client_request, professional, make_person):
    client_request.sign_in(professional)
    response = client_request.post("/send/add-person", {
        "given_name": LONG_GIVEN, "family_name": LONG_FAMILY, "dob_day": "14", "dob_month": "3", "dob_year": "2015",
        "gender": "Female", "upn": "", "postcode": "dm12ab",
    })
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client_request.post(
        "/send/add-person/address/manual",
        {"address_line_1": "1 Mill Lane", "town": "Demoton", "postcode": "DM1 2AB"},
        expected_status=303,
    )
    assert row_names(client_request.get("/send/select-person", query_string={"q": "s" * 110})) == [f"{LONG_GIVEN} {LONG_FAMILY}"]

    amelia = make_person("Amelia", "Jones", professional)
    client_request.post(f"/send/people/{amelia.id}/edit", {
        "given_name": "Amelia", "family_name": "ﬀ" * 100, "dob_day": "14", "dob_month": "3", "dob_year": "2015",
        "address_line_1": "", "town": "", "postcode": "",
    }, expected_status=303)
    assert row_names(client_request.get("/send/select-person", query_string={"q": "amelia " + "f" * 120})) == ["Amelia " + "ﬀ" * 100]


def test_names_over_the_column_length_are_refused_with_a_message(runner, client_request, professional, monkeypatch, tmp_path):
    # import-people
    result = import_people(runner, write(tmp_path, f"LA1,{'A' * 101},Jones,2015-03-14,F,,,,,,"))
    assert result.exit_code == 1 and "line 2: given_name must be 1 to 100 characters" in result.output
    # create-user
    monkeypatch.setenv("SEND_PORTAL_PASSWORD", "a long enough password")
    for name, said in ((f"{'A' * 101} Morgan", "given name"), (f"Alex {'M' * 101}", "family name")):
        result = runner.invoke(args=["create-user", "--email", "a@la.example", "--name", name, "--role", "admin"])
        assert result.exit_code == 2, result.output
        assert f"the {said} must be 100 characters or fewer" in result.output
        assert "Traceback" not in result.output
    result = runner.invoke(args=["create-user", "--email", "a@la.example", "--name", "A B", "--role", "admin", "--organisation", "O" * 201])
    assert result.exit_code == 2 and "200 characters or fewer" in result.output
    assert count(User, User.email == "a@la.example") == 0
    # Add Person, Edit Person and registration say so on the page.
    client_request.sign_in(professional)
    response = client_request.post("/send/add-person", {
        "given_name": "A" * 101, "family_name": "Jones", "dob_day": "14", "dob_month": "3", "dob_year": "2015",
        "gender": "Female", "upn": "", "postcode": "dm12ab",
    }, expected_status=400)
    assert "100 characters or fewer" in text(client_request.parse(response).find(class_="govuk-error-summary"))
    assert count(Person) == 0
    client_request.client.post("/sign-out", data={"csrf_token": client_request.csrf_token()})
    response = client_request.client.post("/register", data={
        "given_name": "G" * 101, "family_name": "F" * 101, "email": "new@school.example",
        "organisation": "School", "professional_type": "senco", "password": "a long enough password",
        "password_confirm": "a long enough password", "csrf_token": client_request.csrf_token("/register"),
    })
    assert response.status_code == 400
    summary = text(client_request.parse(response).find(class_="govuk-error-summary"))
    assert "Given name must be 100 characters or fewer" in summary and "Family name must be 100 characters or fewer" in summary


# --- 8. control characters in the CSV files ------------------------------------------

CONTROL_CHARACTERS = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\u2028", "\t", "\n", "\r"]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS])
def test_import_people_refuses_control_characters_by_line_and_imports_nothing(runner, professional, tmp_path, character):
    path = tmp_path / "people.csv"
    quoted = f'"Ame{character}lia"'  # quoted, so a line break is inside the field
    path.write_text(
        HEADER + "\n"
        f"LA1,Oliver,Brown,2014-05-06,M,,,{professional.email},,,\n"
        f"LA2,{quoted},Jones,2015-03-14,F,,,,,,\n",
        encoding="utf-8", newline="",
    )
    result = import_people(runner, str(path))
    assert result.exit_code == 1, result.output
    assert "line 3: given_name contains a control character" in result.output
    assert "Traceback" not in result.output
    assert "Nothing was imported" in result.output
    assert count(Person) == 0


def test_import_people_reports_control_characters_in_every_column(runner, professional, tmp_path):
    values = ["LA1", "Amelia", "Jones", "2015-03-14", "F", "DM1 2AB", "Request received", professional.email, "2024-01-01", "", "2025-01-01"]
    lines = []
    for column in range(len(values)):
        row = list(values)
        row[0] = f"LA{column}"
        row[column] = (row[column] or "x") + "\x00"
        lines.append(",".join(row))
    result = import_people(runner, write(tmp_path, *lines))
    assert result.exit_code == 1
    for column, name in enumerate(HEADER.split(",")):
        assert f"line {column + 2}: {name} contains a control character" in result.output, name
    assert count(Person) == 0


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x9b", "\u2029"], ids=["NUL", "BEL", "CSI", "U+2029"])
def test_import_addresses_refuses_control_characters_by_line_and_imports_nothing(runner, tmp_path, character):
    path = write(
        tmp_path,
        "10001,1 High Street,,Demoton,DM1 2AB",
        f"10002,2 High{character} Street,,Demoton,DM1 2AB",
        f"10003,3 High Street,,Demo{character}ton,DM1 2AB",
        header=ADDRESS_HEADER, name="addresses.csv",
    )
    result = runner.invoke(args=["import-addresses", path])
    assert result.exit_code == 1, result.output
    assert "line 3: address_line_1 contains a control character" in result.output
    assert "line 4: town contains a control character" in result.output
    assert "Nothing was imported" in result.output and "Traceback" not in result.output
    assert count(Address) == 0


def test_clean_files_still_import(runner, professional, tmp_path):
    """Accents, apostrophes and non-Latin scripts are not control characters."""
    people = write(tmp_path, f"LA1,Zoë,O'Brien-Ñúñez,2015-03-14,F,,,{professional.email},,,", "LA2,Дмитрий,Иванов,2014-01-02,M,,,,,,")
    result = import_people(runner, people)
    assert result.exit_code == 0, result.output
    addresses = write(tmp_path, "10001,Flat 2 – Tŷ Newydd,,Llanfair,DM1 2AB", header=ADDRESS_HEADER, name="a.csv")
    assert runner.invoke(args=["import-addresses", addresses]).exit_code == 0
    assert count(Person) == 2 and count(Address) == 1
    assert person_with_reference("LA1").date_of_birth == date(2015, 3, 14)
