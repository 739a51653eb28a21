from django import template

from bookings.forms import WaitlistForm

register = template.Library()


@register.inclusion_tag("bookings/includes/waitlist_form.html", takes_context=True)
def waitlist_form(context, consultation_type):
    """The waitlist form of a consultation type, e.g. on its days page."""
    return {
        "csrf_token": context.get("csrf_token"),
        "consultation_type": consultation_type,
        "form": WaitlistForm(
            consultation_type=consultation_type,
            clinic=context.get("clinic"),
            # The days page's placeholder for the booking pages' cache.
            initial={"form_token": context["waitlist_form_token"]}
            if context.get("waitlist_form_token")
            else None,
        ),
    }
