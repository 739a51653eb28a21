import time
from unittest import mock

from bookings.models import ConsultationRequest
from tests.roswell_site.conftest import manage, production_env

URL = "/consultation/"
THANKS_URL = "/consultation/thanks/"


def test_thanks_page_lasts_its_own_minutes_not_the_staff_idle_timeout(
    client, form_data, settings
):
    settings.SESSION_COOKIE_AGE = 5 * 60
    settings.BOOKINGS_THANKS_MINUTES = 45
    sent_at = time.time()

    response = client.post(URL, form_data())

    assert response.cookies["bookings_thanks"]["max-age"] == 45 * 60
    reference = ConsultationRequest.objects.get().reference
    with mock.patch("time.time", return_value=sent_at + 20 * 60):
        assert reference in client.get(THANKS_URL).text
    with mock.patch("time.time", return_value=sent_at + 46 * 60):
        late = client.get(THANKS_URL)
    assert late.status_code == 302
    assert reference not in late.text


def test_thanks_minutes_come_from_the_environment():
    script = "from django.conf import settings; print(settings.BOOKINGS_THANKS_MINUTES)"

    default = manage("shell", "--no-imports", "-c", script, env=production_env())
    set_to_ten = manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(BOOKINGS_THANKS_MINUTES="10"),
    )

    assert default.stdout.strip() == "30"
    assert set_to_ten.stdout.strip() == "10"
