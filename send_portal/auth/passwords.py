from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

# A hash to compare against when the email is unknown, so a wrong email and a
# wrong password take the same time.
_DUMMY = {}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY:
            _DUMMY[method] = generate_password_hash("not a password", method=method)
        check_password_hash(_DUMMY[method], password)
        return False
    return check_password_hash(stored, password)
