import re
import time
import uuid
from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout
from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject, cached_property, lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString

from pages.models import Article, ClinicDetails

from .models import (
    RISK_PATTERN,
    BlockedSender,
    ConsultationRequest,
    ConsultationType,
    Treatment,
    WaitlistEntry,
    suggests_risk,
)

# C0 and C1 control characters except tab and newline, plus DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A salt, not a secret.
FORM_TOKEN_SALT = "bookings.form-token"  # noqa: S105
# A form may be sent up to a day after it was handed out.
FORM_TOKEN_MAX_AGE = 24 * 3600


def clean_text(value, *, multiline=False):
    """Trim, drop control characters, and fold line breaks unless multiline."""
    value = CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        value = " ".join(value.split())
    return value.strip()


def issue_form_token(browser_key=None):
    """
    A signed one-time token recording when, and to which browser, the form was
    handed out. Anyone who has the token can read it, so it holds a digest of the
    browser's key (a cookie set with the form), never the key. Without a key it
    is bound to no browser.
    """
    data = {"id": uuid.uuid4().hex, "t": time.time()}
    if browser_key:
        data["b"] = browser_digest(browser_key)
    return signing.dumps(data, salt=FORM_TOKEN_SALT)


def read_form_token(token):
    """
    The token's (id, issued-at time, browser digest or ""), or None when it was
    tampered with.
    """
    try:
        data = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
        return data["id"], float(data["t"]), str(data.get("b", ""))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def browser_digest(browser_key):
    return salted_hmac(FORM_TOKEN_SALT, browser_key, algorithm="sha256").hexdigest()


def of_article_exists(article):
    """Whether a treatment is a topic of the published article with this slug."""
    return Exists(
        Article.objects.published().filter(slug=article, topics__slug=OuterRef("slug"))
    )


def article_treatment(article):
    """
    The pk of the treatment a blank form chooses for the article the patient
    came from (see PatientDetailsForm.list_treatments), or None.
    """
    return (
        Treatment.objects.filter(is_active=True)
        .filter(of_article_exists(article))
        .values_list("pk", flat=True)
        .first()
    )


def mark_required(fields):
    """Say "(required)" in the label of each required field people see."""
    for field in fields.values():
        if field.required and not isinstance(field.widget, forms.HiddenInput):
            # Lazily: a label may name the clinic, read only when it is shown.
            field.label = format_html_lazy(
                '{} <span class="required">(required)</span>', field.label
            )


format_html_lazy = lazy(format_html, SafeString)


def format_clinic_html(clinic, format_string, *args):
    """format_html(format_string, the clinic's name, *args)."""
    return format_html(format_string, clinic.name, *args)


# The same, made when shown. Built once here: lazy() makes a class at each call.
clinic_label = lazy(format_clinic_html, SafeString)


class PublicSubmissionForm(forms.Form):
    """
    What every form patients send shares: a signed one-time token (form_token,
    saved by the subclass as the record's unique token), a honeypot field, the
    checks that make a submission spam, the patient's consent and the form's
    crispy-forms layout. Each needs an `email` field.
    """

    consent = forms.BooleanField()
    # A field people never see; bots that fill in every field reveal themselves.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, browser_key=None, clinic=None, **kwargs):
        self.browser_key = browser_key
        # The page's record of the clinic (the header shows it too), read only
        # when a label shows its name: a form sent and saved reads nothing.
        self.clinic = (
            clinic if clinic is not None else SimpleLazyObject(ClinicDetails.load)
        )
        super().__init__(*args, **kwargs)

    @cached_property
    def helper(self):
        """The crispy-forms layout of the fields this form ended up with."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        visible = [
            name for name in self.fields if name not in ("website", "form_token")
        ]
        helper.layout = Layout(
            *visible,
            Div("website", css_class="hp-field", aria_hidden="true"),
            "form_token",
        )
        return helper

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean(self):
        cleaned_data = super().clean()
        token = read_form_token(cleaned_data.get("form_token", ""))
        if token is None:
            self.data["form_token"] = issue_form_token(self.browser_key)
            raise forms.ValidationError(
                "This form had expired. Please check your details and send it again.",
                code="expired",
            )
        self.token_id, self.token_issued_at, self.token_browser = token
        return cleaned_data

    def sent_by_its_browser(self):
        """True when the browser that sent this form is the one it was given to."""
        return bool(self.browser_key and self.token_browser) and constant_time_compare(
            self.token_browser, browser_digest(self.browser_key)
        )

    def spam_reason(self):
        """Why this submission looks automated or is blocked, or "" if it is neither."""
        if self.cleaned_data.get("website"):
            return "honeypot field filled in"
        if time.time() - self.token_issued_at < settings.BOOKINGS_MIN_FILL_SECONDS:
            return "form filled in too fast"
        if BlockedSender.objects.blocks(self.cleaned_data["email"]):
            return "blocked sender"
        return ""


class PatientDetailsForm(PublicSubmissionForm, forms.ModelForm):
    """
    What every consultation asks of the patient, with its cleaning: shared by
    the call-back request and the booking.
    """

    # What the patient is agreeing to be contacted about.
    subject = "request"

    class Meta:
        model = ConsultationRequest
        fields = ("full_name", "email", "phone", "treatment", "message")
        labels = {
            "full_name": "Full name",
            "email": "E-mail address",
            "phone": "Phone number",
            "preferred_contact": "How would you like us to contact you?",
            "treatment": "Which treatment are you interested in?",
            "preferred_time": "Preferred time of day",
            "message": "Anything you would like us to know",
            "heard_about": "How did you hear about us?",
        }
        help_texts = {
            "phone": "A US number such as (770) 555-0123, or with + and country code.",
            "message": "Optional, at most 1,000 characters. Please don’t include "
            "detailed medical history here; we will ask during your call.",
        }
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "preferred_contact": forms.RadioSelect,
            "preferred_time": forms.RadioSelect,
            "message": forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        }
        error_messages = {
            "full_name": {
                "required": "Please enter your name.",
                "max_length": "Please shorten your name to at most %(limit_value)d "
                "characters.",
            },
            "email": {
                "required": "Please enter your e-mail address.",
                "invalid": "Please enter an e-mail address like name@example.com.",
            },
            "phone": {
                "required": "Please enter your phone number.",
                "invalid": "Please enter a phone number like (770) 555-0123, or an "
                "international number starting with +.",
            },
            "preferred_contact": {
                "required": "Please choose how you would like us to contact you."
            },
            "treatment": {
                "required": "Please choose the treatment you’re interested in."
            },
            "preferred_time": {"required": "Please choose a time of day for our call."},
            "message": {
                "max_length": "Please shorten your message to at most %(limit_value)d "
                "characters (it has %(show_value)d)."
            },
        }

    # Typed text, cleaned before validation so control characters never count.
    SINGLE_LINE_FIELDS = ("full_name", "email", "phone")

    def __init__(self, data=None, *args, article="", **kwargs):
        if data is not None:
            data = data.copy()
            for name in self.SINGLE_LINE_FIELDS:
                if name in data:
                    data[name] = clean_text(data[name])
            if "message" in data:
                data["message"] = clean_text(data["message"], multiline=True)
        super().__init__(data, *args, **kwargs)
        self.article = article
        self.fields["treatment"].queryset = Treatment.objects.filter(is_active=True)
        self.fields["treatment"].empty_label = "Please choose"
        if not self.is_bound:
            self.list_treatments(article)
        self.fields["phone"].widget.input_type = "tel"
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        # site.js shows the crisis guidance as soon as the message matches.
        self.fields["message"].widget.attrs["data-risk-pattern"] = RISK_PATTERN.pattern
        privacy_url = reverse("pages:page", kwargs={"slug": "privacy-policy"})
        self.fields["consent"].label = clinic_label(
            self.clinic,
            "I agree that {} may contact me about this {}, as described in the "
            '<a href="{}">privacy policy</a>.',
            self.subject,
            privacy_url,
        )
        self.fields["consent"].error_messages["required"] = (
            "Please tick this box so that we may contact you about your "
            f"{self.subject}."
        )
        mark_required(self.fields)

    def list_treatments(self, article):
        """
        Load the treatment list of a blank form in one query, which also finds
        the first treatment matching a topic of the published article (slug)
        the patient came from, and choose that one.
        """
        field = self.fields["treatment"]
        treatments = list(
            field.queryset.annotate(of_article=of_article_exists(article))
        )
        field.choices = [("", field.empty_label)] + [
            (field.prepare_value(treatment), field.label_from_instance(treatment))
            for treatment in treatments
        ]
        if chosen := next((each for each in treatments if each.of_article), None):
            self.initial["treatment"] = chosen

    def _get_validation_exclusions(self):
        # The treatment field has already found the choice among the active
        # treatments: the model's check that it exists would query it again.
        return super()._get_validation_exclusions() | {"treatment"}

    @property
    def message_suggests_risk(self):
        return self.is_bound and suggests_risk(self.data.get("message", ""))

    def unsaved_consultation(self):
        """The patient's consultation, not yet saved, with its token and consent."""
        consultation = super().save(commit=False)
        consultation.form_token = self.token_id
        consultation.consent_at = timezone.now()
        consultation.spam_reason = self.spam_reason()
        consultation.source_article = self.source_article()
        return consultation

    def source_article(self):
        """The published article whose link the patient followed here, if any."""
        if not self.article:
            return None
        return Article.objects.published().filter(slug=self.article).first()


class ConsultationRequestForm(PatientDetailsForm):
    """A request to be called back, with the patient's preferred days and time."""

    preferred_days = forms.MultipleChoiceField(
        label="Preferred days for a call back",
        choices=ConsultationRequest.Weekday,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked if any weekday suits you.",
    )

    class Meta(PatientDetailsForm.Meta):
        fields = (
            "full_name",
            "email",
            "phone",
            "preferred_contact",
            "treatment",
            "preferred_days",
            "preferred_time",
            "message",
            "heard_about",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_time"].choices = ConsultationRequest.TimeOfDay.choices
        self.fields["heard_about"].choices = [("", "Prefer not to say")] + list(
            ConsultationRequest.HeardAbout.choices
        )
        self.fields[
            "preferred_contact"
        ].choices = ConsultationRequest.ContactMethod.choices

    def save(self):
        """Submit the request (see ConsultationRequest.submit)."""
        consultation = self.unsaved_consultation()
        consultation.submit()
        return consultation


class BookingForm(PatientDetailsForm):
    """The patient's details for a booked time: the request's, less the call back."""

    subject = "booking"

    class Meta(PatientDetailsForm.Meta):
        fields = (
            "full_name",
            "email",
            "phone",
            "preferred_contact",
            "treatment",
            "message",
        )

    def __init__(self, *args, consultation_type, **kwargs):
        super().__init__(*args, **kwargs)
        if consultation_type.location == ConsultationType.Location.PHONE:
            # The consultation is a phone call: that is how we will be in touch.
            del self.fields["preferred_contact"]
            self.instance.preferred_contact = ConsultationRequest.ContactMethod.PHONE
        else:
            self.fields[
                "preferred_contact"
            ].choices = ConsultationRequest.ContactMethod.choices


class WaitlistForm(PublicSubmissionForm, forms.ModelForm):
    """An e-mail address and a range of days, to hear of a time of one type."""

    consent = forms.BooleanField(
        error_messages={
            "required": "Please tick this box so that we may e-mail you when a "
            "time frees up."
        },
    )

    class Meta:
        model = WaitlistEntry
        fields = ("email", "first_day", "last_day")
        labels = {
            "email": "E-mail address",
            "first_day": "From",
            "last_day": "To",
        }
        help_texts = {
            "first_day": "The first day you could come.",
            "last_day": "The last day you could come.",
        }
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "first_day": forms.DateInput(attrs={"type": "date"}),
            "last_day": forms.DateInput(attrs={"type": "date"}),
        }
        error_messages = {
            "email": {
                "required": "Please enter your e-mail address.",
                "invalid": "Please enter an e-mail address like name@example.com.",
            },
            "first_day": {
                "required": "Please enter the first day you could come.",
                "invalid": "Please enter the first day as a date, e.g. 2026-03-09.",
            },
            "last_day": {
                "required": "Please enter the last day you could come.",
                "invalid": "Please enter the last day as a date, e.g. 2026-03-20.",
            },
        }

    def __init__(self, data=None, *args, consultation_type, **kwargs):
        if data is not None:
            data = data.copy()
            if "email" in data:
                data["email"] = clean_text(data["email"])
        super().__init__(data, *args, **kwargs)
        # Bound to no browser: the thank-you page shows nothing of the patient.
        self.fields["form_token"].initial = issue_form_token
        self.consultation_type = consultation_type
        self.today = timezone.localdate()
        self.last_bookable_day = self.today + timedelta(
            days=consultation_type.horizon_days
        )
        for name in ("first_day", "last_day"):
            self.fields[name].widget.attrs.update(
                min=self.today.isoformat(), max=self.last_bookable_day.isoformat()
            )
        privacy_url = reverse("pages:page", kwargs={"slug": "privacy-policy"})
        self.fields["consent"].label = clinic_label(
            self.clinic,
            "I agree that {} may e-mail me when a time frees up, as described in "
            'the <a href="{}">privacy policy</a>.',
            privacy_url,
        )
        mark_required(self.fields)

    def clean_first_day(self):
        first_day = self.cleaned_data["first_day"]
        if first_day < self.today:
            raise forms.ValidationError(
                "Please choose today or a later day.", code="in_the_past"
            )
        return first_day

    def clean_last_day(self):
        last_day = self.cleaned_data["last_day"]
        if last_day > self.last_bookable_day:
            raise forms.ValidationError(
                "We take bookings up to %(day)s; please choose that day or an "
                "earlier one.",
                code="too_far",
                params={"day": date_format(self.last_bookable_day, "l j F Y")},
            )
        return last_day

    def clean(self):
        cleaned_data = super().clean()
        first_day, last_day = (
            cleaned_data.get("first_day"),
            cleaned_data.get("last_day"),
        )
        if first_day and last_day and last_day < first_day:
            self.add_error(
                "last_day",
                forms.ValidationError(
                    "The last day cannot be before the first day.",
                    code="last_day_before_first_day",
                ),
            )
        return cleaned_data

    def save(self):
        """
        Put the patient on the waitlist, or, for a submission that looks like
        spam, keep nothing (there is no message a person could have meant) and
        return None. Raises IntegrityError when its form token was already used.
        """
        if self.spam_reason():
            return None
        entry = super().save(commit=False)
        entry.consultation_type = self.consultation_type
        entry.form_token = self.token_id
        entry.consent_at = timezone.now()
        # A savepoint, so that a token used before leaves the transaction usable.
        with transaction.atomic():
            entry.save()
        return entry
