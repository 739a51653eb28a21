from tests.roswell_site.conftest import manage, production_env

PRINT_SETTING = "from django.conf import settings; print(settings.STAFF_MFA_REQUIRED)"


def staff_mfa_required(**env):
    result = manage("shell", "-c", PRINT_SETTING, env=production_env(**env))
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]


def test_production_requires_the_second_step():
    assert staff_mfa_required() == "True"


def test_debug_lets_developers_skip_it():
    assert staff_mfa_required(DJANGO_DEBUG="1") == "False"


def test_debug_can_require_it_too():
    assert staff_mfa_required(DJANGO_DEBUG="1", DJANGO_STAFF_MFA_REQUIRED="1") == "True"
