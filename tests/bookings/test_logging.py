import logging

from bookings.models import ConsultationRequest
from tests.bookings.conftest import run_worker


def test_a_consultation_request_and_failed_mail_log_no_patient_data(
    client, form_data, smtp_server, caplog
):
    smtp_server.stop()
    with caplog.at_level(logging.DEBUG):
        client.post(
            "/consultation/",
            form_data(message="I want to die, the pain is too much"),
        )
        run_worker()

    reference = ConsultationRequest.objects.get().reference
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"Notification for {reference} failed" in logged
    for patient_data in (
        "Maria",
        "Lopez",
        "maria@example.org",
        # The phone number as typed and as stored (a bare "555" could be part
        # of a random task or request id).
        "555-0188",
        "5550188",
        "fibromyalgia",
        "want to die",
    ):
        assert patient_data not in logged
