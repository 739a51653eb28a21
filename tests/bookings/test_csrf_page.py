from django.test import Client


def test_a_form_sent_without_its_cookie_explains_what_to_do(form_data):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/consultation/", form_data())

    assert response.status_code == 403
    assert "Please send the form again" in response.text
    assert 'href="/consultation/"' in response.text
