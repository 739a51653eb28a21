"""
The revision-history pages of every admin that keeps history (HistoryAdmin):
history, revision, recover list, recover and compare.
"""

import pytest
import reversion
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from bookings.models import ConsultationRequest, ContactAttempt, Treatment
from pages.models import Article, ClinicDetails, Page, Topic

pytestmark = pytest.mark.django_db

MODELS = {
    "topic": Topic,
    "article": Article,
    "page": Page,
    "clinicdetails": ClinicDetails,
    "consultationrequest": ConsultationRequest,
}
PER_OBJECT_VIEWS = ("history", "revision", "compare")
HISTORY_VIEWS = (*PER_OBJECT_VIEWS, "recoverlist", "recover")
# The clinic's details can only be added when none exist, and requests never.
RECOVERABLE = ("topic", "article", "page", "clinicdetails")


def new_object(model_name, number=1, pk=None):
    """A saved object of the model (of the given pk, if any), with text to change."""
    if model_name == "topic":
        return Topic.objects.create(name=f"Topic {number}", slug=f"topic-{number}")
    if model_name == "article":
        return Article.objects.create(
            pk=pk, title=f"Article {number}", slug=f"article-{number}", summary="First."
        )
    if model_name == "page":
        return Page.objects.create(title=f"Page {number}", slug=f"page-{number}")
    if model_name == "clinicdetails":
        return ClinicDetails.objects.create(name="Roswell Infusions")
    treatment, _ = Treatment.objects.get_or_create(
        slug="fibromyalgia", defaults={"name": "Fibromyalgia"}
    )
    consultation = ConsultationRequest.objects.create(
        pk=pk,
        form_token=f"token-{number}",
        full_name="Maria Lopez",
        email="maria@example.org",
        phone="+17705550188",
        preferred_contact="phone",
        treatment=treatment,
        consent_at=timezone.now(),
    )
    ContactAttempt.objects.create(
        request=consultation, method="phone", result="voicemail", notes="Left one."
    )
    return consultation


def with_history(obj):
    """Two revisions of obj; returns its versions, oldest first."""
    text_field = "name" if isinstance(obj, (Topic, ClinicDetails)) else "title"
    if isinstance(obj, ConsultationRequest):
        text_field = "internal_notes"
    for text in ("First text", "Second text"):
        with reversion.create_revision():
            setattr(obj, text_field, f"{text} {obj.pk}")
            obj.save()
    return list(Version.objects.get_for_object(obj).order_by("pk"))


def deleted_version(model_name):
    """The latest version of an object of the model that was since deleted."""
    if model_name == "clinicdetails":
        ClinicDetails.objects.all().delete()  # it is a single record
    obj = new_object(model_name, number=2)
    *_, latest = with_history(obj)
    obj.delete()
    return latest


def staff(*permissions):
    user = User.objects.create_user(
        f"staff{User.objects.count()}", password="a long test password 1"
    )
    user.is_staff = True
    user.save()
    user.user_permissions.add(*permissions)
    return user


def permissions_of(model):
    return Permission.objects.filter(
        content_type=ContentType.objects.get_for_model(model)
    )


def url(model_name, view, obj=None, version=None):
    app_label = MODELS[model_name]._meta.app_label
    name = f"admin:{app_label}_{model_name}_{view}"
    if view in ("history", "compare"):
        return reverse(name, args=[obj.pk])
    if view == "revision":
        return reverse(name, args=[obj.pk, version.pk])
    if view == "recover":
        return reverse(name, args=[version.pk])
    return reverse(name)


def get(client, model_name, view, obj, versions, deleted):
    if view == "compare":
        return client.get(
            url(model_name, view, obj),
            {"version_id1": versions[0].pk, "version_id2": versions[1].pk},
        )
    if view == "revision":
        return client.get(url(model_name, view, obj, versions[0]))
    return client.get(url(model_name, view, obj, deleted))


@pytest.mark.parametrize("view", HISTORY_VIEWS)
@pytest.mark.parametrize("model_name", MODELS)
def test_history_pages_refuse_staff_without_rights_on_the_model(
    client, model_name, view
):
    model = MODELS[model_name]
    obj = new_object(model_name)
    versions = with_history(obj)
    deleted = deleted_version(model_name) if view == "recover" else None
    client.force_login(staff(*Permission.objects.exclude(pk__in=permissions_of(model))))

    response = get(client, model_name, view, obj, versions, deleted)

    assert response.status_code == 403
    assert "Second text" not in response.text


def test_compare_shows_no_request_to_staff_without_rights_on_requests(client):
    consultation = new_object("consultationrequest")
    consultation.internal_notes = "Prefers a female nurse."
    first, second = with_history(consultation)
    client.force_login(staff(*permissions_of(Article)))

    response = client.get(
        url("consultationrequest", "compare", consultation),
        {"version_id1": first.pk, "version_id2": second.pk},
    )

    assert response.status_code == 403
    assert "Fibromyalgia" not in response.text
    assert "Second text" not in response.text


@pytest.mark.parametrize("view", PER_OBJECT_VIEWS)
@pytest.mark.parametrize("model_name", MODELS)
def test_history_pages_open_for_staff_who_may_view_the_model(client, model_name, view):
    model = MODELS[model_name]
    obj = new_object(model_name)
    versions = with_history(obj)
    client.force_login(
        staff(*permissions_of(model).filter(codename__startswith="view"))
    )

    response = get(client, model_name, view, obj, versions, None)

    assert response.status_code == 200


@pytest.mark.parametrize("view", ("recoverlist", "recover"))
@pytest.mark.parametrize("model_name", RECOVERABLE)
def test_recover_pages_open_for_staff_who_may_add_and_change(client, model_name, view):
    model = MODELS[model_name]
    deleted = deleted_version(model_name)
    # A deleted article comes back as it was, published or not: only
    # publishers may recover one.
    client.force_login(
        staff(
            *permissions_of(model).filter(codename__regex="^(add|change|view|publish)_")
        )
    )

    response = get(client, model_name, view, None, None, deleted)

    assert response.status_code == 200
    assert deleted.object_repr in response.text


def other_model(model_name):
    return "article" if model_name != "article" else "consultationrequest"


@pytest.mark.parametrize("view", ("revision", "compare"))
@pytest.mark.parametrize("model_name", MODELS)
def test_history_pages_refuse_a_version_of_another_model(client, model_name, view):
    obj = new_object(model_name)
    versions = with_history(obj)
    # The same pk, as an attacker would pick: reversion matches the version's
    # object id and nothing else.
    other = new_object(other_model(model_name), number=3, pk=obj.pk)
    other_versions = with_history(other)
    client.force_login(staff(*Permission.objects.all()))

    response = get(client, model_name, view, obj, other_versions, None)
    if view == "compare":
        mixed = {"version_id1": versions[0].pk, "version_id2": other_versions[1].pk}
        assert client.get(url(model_name, view, obj), mixed).status_code == 404

    assert response.status_code == 404


@pytest.mark.parametrize("model_name", RECOVERABLE)
def test_recover_refuses_a_version_of_another_model(client, model_name):
    other_deleted = deleted_version(other_model(model_name))
    client.force_login(staff(*Permission.objects.all()))

    response = client.get(url(model_name, "recover", version=other_deleted))

    assert response.status_code == 404


def test_recover_refuses_to_restore_a_request_from_the_article_admin(client):
    deleted = deleted_version("consultationrequest")
    client.force_login(staff(*permissions_of(Article)))

    response = client.post(url("article", "recover", version=deleted))

    assert response.status_code == 404
    assert not ConsultationRequest.objects.exists()
    assert not ContactAttempt.objects.exists()


def test_request_revision_page_cannot_roll_an_article_back(client):
    article = new_object("article")
    first, _ = with_history(article)
    client.force_login(staff(*permissions_of(ConsultationRequest)))

    response = client.post(
        reverse(
            "admin:bookings_consultationrequest_revision", args=[article.pk, first.pk]
        )
    )

    assert response.status_code == 404
    article.refresh_from_db()
    assert article.title.startswith("Second text")


def test_revision_page_cannot_restore_a_deleted_request(client):
    deleted = deleted_version("consultationrequest")
    client.force_login(staff(*permissions_of(ConsultationRequest)))

    response = client.post(
        reverse(
            "admin:bookings_consultationrequest_revision",
            args=[deleted.object_id, deleted.pk],
        ),
        {
            "status": "new",
            "contact_attempts-TOTAL_FORMS": "0",
            "contact_attempts-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 404
    assert not ConsultationRequest.objects.exists()


def test_view_only_staff_cannot_revert(client):
    article = new_object("article")
    first, _ = with_history(article)
    client.force_login(staff(*permissions_of(Article).filter(codename="view_article")))

    response = client.post(url("article", "revision", article, first))

    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title.startswith("Second text")
