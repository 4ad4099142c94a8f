"""Forms for adding a child and correcting their details."""
from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..addresses import format_postcode, normalise_postcode
from ..models import GENDERS

NAME_MAX = 100
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # the 23 letters the DfE uses (no I, O, S)
_UPN_RE = re.compile(r"^[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$")


def upn_is_valid(upn: str) -> bool:
    """A unique pupil number: a check letter, 11 digits and a digit (or a letter
    for a temporary UPN). The check letter is the DfE's weighted sum mod 23."""
    if not _UPN_RE.match(upn):
        return False
    total = 0
    for weight, char in enumerate(upn[1:], start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += weight * value
    return _UPN_LETTERS[total % 23] == upn[0]


def _name(label: str, what: str):
    return StringField(
        label,
        validators=[
            DataRequired(f"Enter the child’s {what}"),
            Length(max=NAME_MAX, message=f"The {what} must be {NAME_MAX} characters or fewer"),
        ],
        filters=[lambda v: " ".join(v.split()) if v else v],
    )


class DateOfBirthMixin:
    dob_day = StringField("Day")
    dob_month = StringField("Month")
    dob_year = StringField("Year")
    date_of_birth: date | None = None

    def check_date_of_birth(self) -> str | None:
        """GOV.UK date input rules; returns the problem, or None."""
        parts = {"day": self.dob_day.data, "month": self.dob_month.data, "year": self.dob_year.data}
        parts = {k: (v or "").strip() for k, v in parts.items()}
        missing = [k for k, v in parts.items() if not v]
        if len(missing) == 3:
            return "Enter the child’s date of birth"
        if missing:
            return "Date of birth must include a " + " and ".join(missing)
        if not all(re.fullmatch(r"[0-9]{1,2}", parts[k]) for k in ("day", "month")) or not re.fullmatch(r"[0-9]{4}", parts["year"]):
            return "Date of birth must be a real date, such as 27 3 2015"
        try:
            value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except (ValueError, OverflowError):
            return "Date of birth must be a real date, such as 27 3 2015"
        if value > date.today():
            return "Date of birth must be today or in the past"
        if value.year < date.today().year - 30:
            return "Date of birth must be within the last 30 years"
        self.date_of_birth = value
        return None

    def set_date_of_birth(self, value: date) -> None:
        self.dob_day.data, self.dob_month.data, self.dob_year.data = str(value.day), str(value.month), str(value.year)


def _postcode_check(form, field):
    key = normalise_postcode(field.data or "")
    if key is None:
        raise ValidationError("Enter a real postcode, such as DM1 2AB")
    field.data = format_postcode(key)


class AddPersonForm(DateOfBirthMixin, FlaskForm):
    given_name = _name("Given name", "given name")
    family_name = _name("Family name", "family name")
    gender = RadioField("Gender", choices=[(g, g) for g in GENDERS], validators=[DataRequired("Select the child’s gender")])
    upn = StringField(
        "Unique pupil number (optional)",
        validators=[Optional()],
        filters=[lambda v: re.sub(r"\s+", "", v).upper() if v else v],
    )
    postcode = StringField(
        "Postcode",
        validators=[DataRequired("Enter the postcode of the child’s home address"), Length(max=20, message="Enter a real postcode, such as DM1 2AB"), _postcode_check],
    )

    def validate_upn(self, field):
        if field.data and not upn_is_valid(field.data):
            raise ValidationError("Enter a unique pupil number with 13 characters, such as A123456789012, or leave it empty")


class ManualAddressForm(FlaskForm):
    address_line_1 = StringField(
        "Address line 1",
        validators=[DataRequired("Enter address line 1, typically the building and street"), Length(max=200, message="Address line 1 must be 200 characters or fewer")],
    )
    address_line_2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=200, message="Address line 2 must be 200 characters or fewer")])
    town = StringField(
        "Town or city",
        validators=[DataRequired("Enter the town or city"), Length(max=100, message="Town or city must be 100 characters or fewer")],
    )
    postcode = StringField(
        "Postcode",
        validators=[DataRequired("Enter the postcode"), Length(max=20, message="Enter a real postcode, such as DM1 2AB"), _postcode_check],
    )


class EditPersonForm(DateOfBirthMixin, FlaskForm):
    given_name = _name("Given name", "given name")
    family_name = _name("Family name", "family name")
    address_line_1 = StringField("Address line 1", validators=[Optional(), Length(max=200, message="Address line 1 must be 200 characters or fewer")])
    address_line_2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=200, message="Address line 2 must be 200 characters or fewer")])
    town = StringField("Town or city", validators=[Optional(), Length(max=100, message="Town or city must be 100 characters or fewer")])
    postcode = StringField("Postcode", validators=[Optional(), Length(max=20, message="Enter a real postcode, such as DM1 2AB"), _postcode_check])
