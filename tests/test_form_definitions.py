"""The LA's forms are data: files checked when the app starts, with a clear
error naming the file and the problem."""
from __future__ import annotations

import json
import textwrap

import pytest

from send_portal import create_app
from send_portal.forms.definitions import (
    DEFAULT_DIRECTORY,
    FormDefinition,
    FormDefinitionError,
    QUESTION_TYPES,
    load_catalogue,
    parse_file,
)

GOOD = """
key = "speech-advice"
title = "Speech and language advice"
professional_types = ["health"]

[[pages]]
title = "Advice"

[[pages.questions]]
key = "advice"
type = "long_text"
label = "Your advice"
"""


def write(folder, name, content):
    path = folder / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def problem_with(tmp_path, content, name="speech.toml") -> str:
    path = write(tmp_path, name, content)
    with pytest.raises(FormDefinitionError) as raised:
        parse_file(str(path))
    return str(raised.value)


# --- the starter set -----------------------------------------------------------------------


def test_the_authority_starter_set_loads():
    catalogue = load_catalogue()
    keys = [f.key for f in catalogue.forms]
    assert keys == [
        "ehc-needs-assessment-request",
        "educational-psychology-advice",
        "health-advice",
        "social-care-advice",
        "annual-review-contribution",
    ]
    request = catalogue.get("ehc-needs-assessment-request")
    assert set(request.professional_types) == {"senco", "early_years"}
    assert request.before_authentication is True
    assert all(not f.before_authentication for f in catalogue.forms if f.key != request.key)
    assert catalogue.get("educational-psychology-advice").due_days == 42
    # Every kind of question is used somewhere, so every kind is exercised.
    used = {q.type for f in catalogue.forms for q in f.questions}
    assert used == set(QUESTION_TYPES)


def test_forms_are_offered_by_professional_type_and_authentication():
    catalogue = load_catalogue()

    def keys(ptype, authenticated):
        return [f.key for f in catalogue.for_professional(ptype, authenticated)]

    assert keys("senco", True) == ["ehc-needs-assessment-request", "annual-review-contribution"]
    assert keys("educational_psychologist", True) == ["educational-psychology-advice", "annual-review-contribution"]
    assert keys("health", True) == ["health-advice", "annual-review-contribution"]
    assert keys("social_care", True) == ["social-care-advice", "annual-review-contribution"]
    assert keys("senco", False) == ["ehc-needs-assessment-request"]
    assert keys("educational_psychologist", False) == []


def test_a_file_question_defaults_to_10_mb(tmp_path):
    path = write(tmp_path, "speech.toml", GOOD + """
[[pages.questions]]
key = "report"
type = "file"
label = "Upload your report"
""")
    question = parse_file(str(path)).question("report")
    assert question.max_size_mb == 10
    assert question.allowed_types == ("pdf", "docx")


def test_json_definitions_are_read_too(tmp_path):
    data = {
        "key": "speech-advice", "title": "Speech and language advice", "professional_types": ["health"],
        "pages": [{"title": "Advice", "questions": [{"key": "advice", "type": "long_text", "label": "Your advice"}]}],
    }
    (tmp_path / "speech.json").write_text(json.dumps(data), encoding="utf-8")
    catalogue = load_catalogue(str(tmp_path))
    assert catalogue.get("speech-advice").title == "Speech and language advice"


def test_a_snapshot_reads_back_the_same_questions():
    definition = load_catalogue().get("ehc-needs-assessment-request")
    again = FormDefinition.from_snapshot(json.loads(json.dumps(definition.to_snapshot())))
    assert again.title == definition.title
    assert [q.to_snapshot() for q in again.questions] == [q.to_snapshot() for q in definition.questions]


# --- bad definitions are refused, naming the file and the problem -------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        ('key = "x"\ntitle = ', "speech.toml: is not valid TOML"),
        (GOOD.replace('title = "Speech and language advice"\n', ""), "speech.toml: 'title' is missing"),
        (GOOD.replace('title = "Speech', 'titel = "x"\ntitle = "Speech'), "unknown setting 'titel' (did you mean 'title'?)"),
        (GOOD.replace('["health"]', '["dentist"]'), "professional type 'dentist' is not one of"),
        (GOOD.replace('["health"]', "[]"), "'professional_types' must not be empty"),
        (GOOD.replace('key = "speech-advice"', 'key = "Speech Advice"'), "'key' must be lower-case letters, digits and hyphens"),
        (GOOD.replace('type = "long_text"', 'type = "dropdown"'), "pages[1].questions[1] (advice): 'type' must be one of short_text, long_text, date"),
        (GOOD.replace('label = "Your advice"', 'label = "Your advice"\nrequried = false'), "(advice): unknown setting 'requried' (did you mean 'required'?)"),
        (GOOD.replace('label = "Your advice"', 'label = "Your advice"\nrequired = "no"'), "'required' must be true or false, not text"),
        (GOOD.replace('label = "Your advice"', 'label = "Your advice"\nmax_length = 50000'), "'max_length' must be between 1 and 20000"),
        (GOOD.replace('label = "Your advice"\n', ""), "(advice): 'label' is missing"),
        (GOOD.replace('key = "advice"', 'key = "csrf_token"'), "'key' must be lower-case letters, digits and underscores"),
        (GOOD + '\n[[pages.questions]]\nkey = "advice"\ntype = "short_text"\nlabel = "Again"\n', "pages[1].questions[2]: key 'advice' is already used at pages[1].questions[1]"),
        (GOOD.replace('type = "long_text"', 'type = "single_choice"'), "'options' is missing"),
        (GOOD.replace('type = "long_text"', 'type = "single_choice"\noptions = ["Only"]'), "needs at least two options"),
        (GOOD.replace('type = "long_text"', 'type = "multiple_choice"\noptions = ["A", "A"]'), "'options' lists 'A' twice"),
        (GOOD.replace('type = "long_text"', 'type = "date"\nwhen = "yesterday"'), "'when' must be one of any, past, future"),
        (GOOD.replace('type = "long_text"', 'type = "file"\nallowed_types = ["exe"]'), "file type 'exe' is not one of pdf"),
        (GOOD.replace('type = "long_text"', 'type = "file"\nmax_size_mb = 500'), "'max_size_mb' must be between"),
        (GOOD.replace('type = "long_text"', 'type = "yes_no"\noptions = ["Y", "N"]'), "unknown setting 'options'"),
        (GOOD.replace('professional_types = ["health"]', 'professional_types = ["health"]\ndue_days = "six weeks"'), "'due_days' must be a whole number, not text"),
        (GOOD.replace('professional_types = ["health"]', 'professional_types = ["health"]\nbefore_authentication = "yes"'), "'before_authentication' must be true or false"),
        ('key = "speech-advice"\ntitle = "x"\nprofessional_types = ["health"]\n', "a form needs at least one page"),
        (GOOD.split("[[pages.questions]]")[0], "pages[1]: a page needs at least one question"),
    ],
)
def test_a_bad_definition_is_refused_with_the_file_and_the_problem(tmp_path, content, expected):
    message = problem_with(tmp_path, content)
    assert message.startswith("speech.toml: ")
    assert expected in message


def test_bad_json_is_named(tmp_path):
    assert "speech.json: is not valid JSON" in problem_with(tmp_path, "{not json", name="speech.json")


def test_two_files_with_the_same_key_are_refused(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    with pytest.raises(FormDefinitionError, match="b.toml: key 'speech-advice' is already used by a.toml"):
        load_catalogue(str(tmp_path))


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(FormDefinitionError, match="holds no form definitions"):
        load_catalogue(str(tmp_path))


def test_the_app_does_not_start_with_a_bad_definition(tmp_path, database_url):
    write(tmp_path, "speech.toml", GOOD.replace('type = "long_text"', 'type = "essay"'))
    with pytest.raises(FormDefinitionError, match=r"speech.toml: pages\[1\].questions\[1\] \(advice\): 'type'"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "FORM_DEFINITIONS_DIR": str(tmp_path)})


def test_the_app_reads_the_authority_folder(tmp_path, database_url):
    write(tmp_path, "speech.toml", GOOD)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "FORM_DEFINITIONS_DIR": str(tmp_path)})
    assert [f.key for f in app.extensions["send_forms"].forms] == ["speech-advice"]
    assert DEFAULT_DIRECTORY.endswith("definitions")
