"""Absolute addresses and share images for canonical links, Open Graph and feeds."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.templatetags.static import static

DEFAULT_SHARE_IMAGE = "img/share-default.png"
DEFAULT_SHARE_IMAGE_SIZE = (1200, 630)
DEFAULT_SHARE_IMAGE_TYPE = "image/png"
DEFAULT_SHARE_IMAGE_ALT = (
    "Roswell Infusions: ketamine infusion therapy for chronic pain and mood disorders"
)


def absolute_url(path):
    """The address of a path on the public site (SITE_URL), whatever host was asked."""
    if urlsplit(path).scheme:
        return path
    return settings.SITE_URL + path


def absolute_static_url(path):
    return absolute_url(static(path))


def site_domain():
    return urlsplit(settings.SITE_URL).netloc


def site_protocol():
    return urlsplit(settings.SITE_URL).scheme


def canonical_path(request):
    """The request's path, keeping only a page number beyond the first."""
    page = request.GET.get("page", "")
    if page.isdigit() and int(page) > 1:
        return f"{request.path}?page={int(page)}"
    return request.path


@dataclass(frozen=True)
class ShareImage:
    url: str
    width: int
    height: int
    alt: str
    content_type: str


def share_image(preview=None, alt=""):
    """
    A picture's copy for link previews (Article.hero_preview) as the share image,
    or the site's default one. Never the uploaded original, nor a WebP copy,
    which not every link-preview reader takes.
    """
    if preview:
        return ShareImage(
            absolute_url(preview["url"]),
            preview["width"],
            preview["height"],
            alt,
            preview["content_type"],
        )
    width, height = DEFAULT_SHARE_IMAGE_SIZE
    return ShareImage(
        absolute_static_url(DEFAULT_SHARE_IMAGE),
        width,
        height,
        DEFAULT_SHARE_IMAGE_ALT,
        DEFAULT_SHARE_IMAGE_TYPE,
    )
