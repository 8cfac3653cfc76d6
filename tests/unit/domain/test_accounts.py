import pytest

from badger.domain.accounts import Role, check_password, effective_roles, parse_role
from badger.domain.errors import ValidationError


def test_admin_implies_reviewer_and_learner():
    assert effective_roles({"admin"}) == {Role.ADMIN, Role.REVIEWER, Role.LEARNER}


def test_learner_is_only_a_learner():
    assert effective_roles({"learner"}) == {Role.LEARNER}


def test_unknown_role_is_a_validation_error():
    with pytest.raises(ValidationError, match="role"):
        parse_role("superuser")


@pytest.mark.parametrize("pw", ["short", " " * 12, "x" * 2000])
def test_weak_or_absurd_passwords_are_refused(pw):
    with pytest.raises(ValidationError) as info:
        check_password(pw)
    assert info.value.field == "password"


def test_long_passphrase_is_accepted():
    assert check_password("correct horse battery staple")
