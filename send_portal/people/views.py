"""A child's page, and adding a child who is missing (SPEC sections 3 and 4)."""
from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..caseload import queries
from ..portal import professional_required

bp = Blueprint("people", __name__, url_prefix="/send")


@bp.get("/people/<int:person_id>")
@professional_required
def child(person_id: int):
    involvement = queries.involvement_for_person(current_user, person_id)
    if involvement is None:
        abort(404)
    return render_template("people/child.html", involvement=involvement, person=involvement.person)


@bp.get("/add-person")
@professional_required
def add_person():
    return render_template("people/add_person.html")
