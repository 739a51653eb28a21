"""
schema.org structured data (JSON-LD) for search engines, built from the models.

The clinic's address and opening hours are free text that staff type; what
follows the usual forms ("Roswell, GA 30075", "Monday–Friday: 9am–5pm") is
given its schema.org fields, and anything else is left out rather than guessed.
"""

import re

from django.urls import reverse

from .seo import absolute_static_url, absolute_url, share_image

CONTEXT = "https://schema.org"
LOGO = "img/icon-512.png"

WEEKDAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]
DAY_NAMES = {name.lower(): name for name in WEEKDAYS} | {
    name[:3].lower(): name for name in WEEKDAYS
}
DAY_RANGE = re.compile(r"^(\w+)\s*(?:-|–|—|to)\s*(\w+)$")
TIME = re.compile(
    r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE
)
HOURS = re.compile(r"^(.+?)\s*(?:-|–|—|to)\s*(.+)$")
US_CITY_LINE = re.compile(
    r"^(?P<locality>[^,]+),\s*(?P<region>[A-Z]{2})\s+(?P<postal>\d{5}(?:-\d{4})?)$"
)


def without_empty(data):
    return {key: value for key, value in data.items() if value not in ("", None, [])}


def postal_address(address):
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    if not lines:
        return None
    city_line = US_CITY_LINE.match(lines[-1])
    if city_line is None:
        return {"@type": "PostalAddress", "streetAddress": ", ".join(lines)}
    return without_empty(
        {
            "@type": "PostalAddress",
            "streetAddress": ", ".join(lines[:-1]),
            "addressLocality": city_line["locality"].strip(),
            "addressRegion": city_line["region"],
            "postalCode": city_line["postal"],
            "addressCountry": "US",
        }
    )


def parse_days(text):
    """'Monday–Friday', 'Sat and Sun', 'Mon, Wed' as a list of day names."""
    days = []
    for part in re.split(r",|\band\b|&", text):
        part = part.strip().lower()
        if day_range := DAY_RANGE.match(part):
            first, last = (DAY_NAMES.get(day) for day in day_range.groups())
            if first is None or last is None:
                return []
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last)
            days.extend(WEEKDAYS[start : end + 1])
        elif part in DAY_NAMES:
            days.append(DAY_NAMES[part])
        else:
            return []
    return days


def parse_time(text):
    """'9am', '5:30 pm' or '17:00' as '09:00', '17:30', '17:00'; None otherwise."""
    match = TIME.match(text.strip())
    if match is None:
        return None
    hour, minute, meridiem = int(match[1]), int(match[2] or 0), match[3]
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def opening_hours(text):
    """Each line 'days: opens–closes' as an OpeningHoursSpecification."""
    specifications = []
    for line in text.splitlines():
        days_text, _, hours_text = line.partition(":")
        hours = HOURS.match(hours_text.strip())
        days = parse_days(days_text)
        if not (days and hours):
            continue
        opens, closes = parse_time(hours[1]), parse_time(hours[2])
        if opens and closes:
            specifications.append(
                {
                    "@type": "OpeningHoursSpecification",
                    "dayOfWeek": days,
                    "opens": opens,
                    "closes": closes,
                }
            )
    return specifications


def organization(clinic):
    return without_empty(
        {
            "@type": "MedicalOrganization",
            "name": clinic.name,
            "url": absolute_url(reverse("pages:home")),
            "logo": absolute_static_url(LOGO),
        }
    )


def image_object(image):
    return {
        "@type": "ImageObject",
        "url": image.url,
        "width": image.width,
        "height": image.height,
    }


def medical_clinic(clinic):
    """The clinic with its address, phone and opening hours."""
    return without_empty(
        {
            "@context": CONTEXT,
            "@type": "MedicalClinic",
            "@id": absolute_url(reverse("pages:home")) + "#clinic",
            "name": clinic.name,
            "url": absolute_url(reverse("pages:home")),
            "telephone": clinic.phone_href.removeprefix("tel:"),
            "email": clinic.email,
            "address": postal_address(clinic.address),
            "openingHoursSpecification": opening_hours(clinic.opening_hours),
            "image": share_image().url,
        }
    )


def medical_web_page(article, clinic):
    """An article, with its medical review when it has one."""
    url = absolute_url(article.get_absolute_url())
    publisher = organization(clinic)
    data = {
        "@context": CONTEXT,
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "headline": article.title,
        "name": article.title,
        "description": article.summary,
        "image": image_object(
            share_image(article.hero_preview, article.hero_image_alt)
        ),
        "datePublished": article.published_at,
        "dateModified": article.updated_at,
        "inLanguage": "en-US",
        "author": publisher,
        "publisher": publisher,
        "keywords": ", ".join(topic.name for topic in article.topics.all()),
        "lastReviewed": article.last_reviewed,
    }
    if article.reviewed_by:
        data["reviewedBy"] = {"@type": "Person", "name": article.reviewed_by}
    return without_empty(data)


def breadcrumb_list(*crumbs):
    """Breadcrumbs from (name, path) pairs, the home page first."""
    return {
        "@context": CONTEXT,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": name,
                "item": absolute_url(path),
            }
            for position, (name, path) in enumerate(crumbs, start=1)
        ],
    }
