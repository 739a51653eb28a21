"""
Uploaded pictures: which files are accepted, what is stored of them, and the
copies made for the page and for link previews.
"""

import io
import warnings
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

# Only these readers are ever tried: Pillow's others include EPS and PDF, whose
# decoding starts Ghostscript.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")

# The format each accepted one is stored in (MPO is a phone's multi-picture JPEG).
STORED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}

# The stored original is re-encoded once, close to the upload's quality.
ORIGINAL_QUALITY = 90

PREVIEW_JPEG_QUALITY = 85

WEBP_QUALITY = 80


def open_image(file):
    """The picture in file, read only by the readers of the accepted formats."""
    return Image.open(file, formats=ACCEPTED_FORMATS)


def validate_image_upload(upload):
    """
    Refuse what is not a JPEG, PNG or WebP, whatever its name says, and pictures
    of too many pixels, from the file's header alone: nothing is decoded yet.
    """
    max_pixels = settings.HERO_IMAGE_MAX_PIXELS
    too_many_pixels = ValidationError(
        "This picture is larger than %(limit)s megapixels (width × height in "
        "pixels). Please make it smaller and upload it again.",
        code="image_too_many_pixels",
        params={"limit": f"{max_pixels / 1_000_000:g}"},
    )
    try:
        # Pillow warns of decompression bombs; the limit below is ours.
        with (
            warnings.catch_warnings(
                action="ignore", category=Image.DecompressionBombWarning
            ),
            open_image(upload) as image,
        ):
            width, height = image.size
    except Image.DecompressionBombError as error:
        raise too_many_pixels from error
    except OSError as error:  # UnidentifiedImageError, or a broken header
        raise ValidationError(
            "Please upload a JPEG, PNG or WebP picture. This file is not one "
            "(pictures in other formats, such as GIF, TIFF, HEIC or EPS, can be "
            "saved as JPEG or PNG first).",
            code="image_format_not_accepted",
        ) from error
    finally:
        upload.seek(0)
    if width * height > max_pixels:
        raise too_many_pixels


def without_metadata(file):
    """
    The picture re-encoded upright with its pixels and colour profile only, and
    the extension of its format: EXIF (GPS position, camera, dates), XMP, IPTC
    and comments are left behind. The colour profile is kept because it only
    says how to show the colours (a phone's Display P3, say): without it they
    shift.
    """
    file.seek(0)
    with open_image(file) as original:
        stored_format = STORED_FORMATS[original.format]
        icc_profile = original.info.get("icc_profile")
        image = ImageOps.exif_transpose(original)
    # Pillow writes some of what it read (comments, a PNG's profile) unless told.
    image.info = {
        key: value for key, value in image.info.items() if key == "transparency"
    }
    options = {} if stored_format == "PNG" else {"quality": ORIGINAL_QUALITY}
    buffer = io.BytesIO()
    image.save(buffer, stored_format, icc_profile=icc_profile, **options)
    return ContentFile(buffer.getvalue()), EXTENSIONS[stored_format]


class HeroImageFormField(forms.ImageField):
    def to_python(self, data):
        # Before Django's check, which opens the file with every Pillow reader.
        if data not in self.empty_values:
            validate_image_upload(data)
        return super().to_python(data)


class HeroImageField(models.ImageField):
    """
    A picture field that accepts only JPEG, PNG and WebP of a bounded size, and
    stores uploads without their metadata.
    """

    def formfield(self, **kwargs):
        # The limits come from the settings when the form is made, so the help
        # text says what the validation enforces.
        limits = (
            f"JPEG, PNG or WebP, at most "
            f"{filesizeformat(settings.HERO_IMAGE_MAX_BYTES)} and "
            f"{settings.HERO_IMAGE_MAX_PIXELS / 1_000_000:g} megapixels."
        )
        return super().formfield(
            **{
                "form_class": HeroImageFormField,
                "help_text": f"{self.help_text} {limits}".strip(),
                **kwargs,
            }
        )

    def pre_save(self, model_instance, add):
        picture = getattr(model_instance, self.attname)
        if picture and not picture._committed:
            content, extension = without_metadata(picture.file)
            picture.file = content
            picture.name = str(PurePosixPath(picture.name).with_suffix(extension))
        return super().pre_save(model_instance, add)


def upright(image):
    """The decoded picture turned upright, in the mode its copies are saved in."""
    image = ImageOps.exif_transpose(image)
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def webp_renditions(field_file, widths):
    """
    Save WebP copies of an uploaded image next to it, one for each of the widths
    narrower than the image and one at its own width (at most the widest), and
    describe them: {"source": the image's name, "renditions": [{"name", "width",
    "height"}, ...] from narrowest to widest}.
    """
    stem = PurePosixPath(field_file.name).with_suffix("")
    renditions = []
    with field_file.open("rb"), open_image(field_file) as original:
        icc_profile = original.info.get("icc_profile")
        image = upright(original)
        widest = min(image.width, max(widths))
        for width in [*(width for width in widths if width < widest), widest]:
            height = round(image.height * width / image.width)
            buffer = io.BytesIO()
            image.resize((width, height), Image.Resampling.LANCZOS).save(
                buffer, "WEBP", quality=WEBP_QUALITY, icc_profile=icc_profile
            )
            name = field_file.storage.save(
                f"{stem}-{width}w.webp", ContentFile(buffer.getvalue())
            )
            renditions.append({"name": name, "width": width, "height": height})
    return {"source": field_file.name, "renditions": renditions}


def preview_copy(field_file, width):
    """
    Save a copy of an uploaded image for link previews next to it, at most width
    pixels wide, as JPEG (PNG with transparency), which every preview reader
    takes, and describe it: {"name", "width", "height", "content_type"}.
    """
    stem = PurePosixPath(field_file.name).with_suffix("")
    with field_file.open("rb"), open_image(field_file) as original:
        icc_profile = original.info.get("icc_profile")
        image = upright(original)
    image_format = "PNG" if image.mode == "RGBA" else "JPEG"
    if image.width > width:
        height = round(image.height * width / image.width)
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    options = {} if image_format == "PNG" else {"quality": PREVIEW_JPEG_QUALITY}
    buffer = io.BytesIO()
    image.save(buffer, image_format, icc_profile=icc_profile, **options)
    name = field_file.storage.save(
        f"{stem}-preview{EXTENSIONS[image_format]}", ContentFile(buffer.getvalue())
    )
    return {
        "name": name,
        "width": image.width,
        "height": image.height,
        "content_type": CONTENT_TYPES[image_format],
    }
