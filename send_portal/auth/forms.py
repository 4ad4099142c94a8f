import re

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..models import PROFESSIONAL_TYPES

PASSWORD_MIN = 12
PASSWORD_MAX = 128
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Length beats complexity rules (NCSC); these are refused because they are
# the first guesses of anyone trying passwords.
COMMON_PASSWORDS = {
    "password1234", "password12345", "password123456", "123456789012", "1234567890123",
    "qwertyuiopas", "qwerty123456", "iloveyou1234", "letmein12345", "welcome12345",
    "passwordpassword", "aaaaaaaaaaaa", "abcdefghijkl", "abc123abc123", "changeme1234",
}


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Length(max=254, message="Email address must be 254 characters or fewer")],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password"), Length(max=200, message="Password must be 200 characters or fewer")],
    )


def _tidy(value):
    return " ".join(value.split()) if value else value


def _lower(value):
    return value.strip().lower() if value else value


class RegistrationForm(FlaskForm):
    given_name = StringField(
        "Given name",
        validators=[DataRequired("Enter your given name"), Length(max=100, message="Given name must be 100 characters or fewer")],
        filters=[_tidy],
    )
    family_name = StringField(
        "Family name",
        validators=[DataRequired("Enter your family name"), Length(max=100, message="Family name must be 100 characters or fewer")],
        filters=[_tidy],
    )
    email = EmailField(
        "Work email address",
        validators=[DataRequired("Enter your work email address"), Length(max=254, message="Work email address must be 254 characters or fewer")],
        filters=[_lower],
    )
    organisation = StringField(
        "Organisation",
        validators=[DataRequired("Enter the name of your organisation"), Length(max=200, message="Organisation must be 200 characters or fewer")],
        filters=[_tidy],
    )
    professional_type = RadioField(
        "Professional type",
        choices=list(PROFESSIONAL_TYPES.items()),
        validators=[DataRequired("Select your professional type")],
        validate_choice=False,  # checked below, with a message a person can act on
    )
    password = PasswordField(
        "Create a password",
        validators=[DataRequired("Enter a password")],
    )
    password_confirm = PasswordField(
        "Confirm your password",
        validators=[DataRequired("Enter your password again")],
    )

    def validate_email(self, field):
        if not EMAIL_RE.match(field.data or ""):
            raise ValidationError("Enter an email address in the correct format, like name@school.example")

    def validate_professional_type(self, field):
        if field.data not in PROFESSIONAL_TYPES:
            raise ValidationError("Select your professional type")

    def validate_password(self, field):
        password = field.data or ""
        if len(password) < PASSWORD_MIN:
            raise ValidationError(f"Password must be {PASSWORD_MIN} characters or more")
        if len(password) > PASSWORD_MAX:
            raise ValidationError(f"Password must be {PASSWORD_MAX} characters or fewer")
        folded = password.casefold()
        if folded in COMMON_PASSWORDS or len(set(folded)) < 4:
            raise ValidationError("Password is too easy to guess. Try three or four random words")
        email = (self.email.data or "").casefold()
        if email and (folded == email or folded == email.split("@")[0]):
            raise ValidationError("Password must not be your email address")

    def validate_password_confirm(self, field):
        if self.password.data and field.data != self.password.data:
            raise ValidationError("Passwords do not match")
