import importlib
import io
import os
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import EpsImagePlugin, Image, ImageCms, PngImagePlugin

from pages.models import Article
from tests.conftest import image_bytes
from tests.pages.conftest import approve_and_publish
from tests.pages.test_admin import article_form

GPS_IFD = 0x8825
MAKE, MODEL, DATE_TIME, ORIENTATION = 0x010F, 0x0110, 0x0132, 0x0112
CAMERA_MODEL = "Secret Cam 3000"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
    b'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Patient"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"


def upload(staff_client, content, name="hero.png", content_type="image/png"):
    image = SimpleUploadedFile(name, content, content_type=content_type)
    response = staff_client.post(
        "/admin/pages/article/add/",
        article_form(hero_image=image, hero_image_alt="A calm infusion room"),
    )
    assert response.status_code == 302
    return approve_and_publish(Article.objects.get())


def refused(staff_client, content, name):
    """Post a picture that should be refused; its form errors, by code."""
    image = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = staff_client.post(
        "/admin/pages/article/add/",
        article_form(hero_image=image, hero_image_alt="A picture"),
    )
    assert response.status_code == 200
    assert not Article.objects.exists()
    form = response.context["adminform"].form
    return response.text, [error.code for error in form.errors.as_data()["hero_image"]]


def files_in_media(settings):
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def photo_with_metadata(image_format, size=(900, 600), orientation=6):
    """A picture as a phone takes it: turned, with position, camera, date and XMP."""
    photo = Image.new("RGB", size, "teal")
    photo.paste("orange", (0, 0, size[0] // 3, size[1]))  # the left third, for upright
    exif = photo.getexif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Secret"
    exif[MODEL] = CAMERA_MODEL
    exif[DATE_TIME] = "2026:11:02 09:41:00"
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (34.0, 1.0, 42.0), 3: "W", 4: (84.0, 21.0, 39.0)}
    )
    icc_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    options = {"exif": exif, "xmp": XMP, "icc_profile": icc_profile}
    if image_format == "JPEG":
        options["comment"] = b"Taken at 12 Example Lane"
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "Jane Patient")
        options = {"exif": exif, "pnginfo": info, "icc_profile": icc_profile}
    buffer = io.BytesIO()
    photo.save(buffer, image_format, **options)
    return buffer.getvalue(), icc_profile


def hero_img(client, article):
    html = client.get(article.get_absolute_url()).text
    tag = re.search(r"<figure[^>]*><img ([^>]*)>", html).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def stored_image(url):
    with default_storage.open(url.removeprefix("/media/")) as file:
        image = Image.open(file)
        image.load()
        return image


def test_uploaded_hero_image_is_served_as_responsive_webp(admin_client, client, clinic):
    article = upload(admin_client, image_bytes(size=(2400, 1200)))

    img = hero_img(client, article)

    candidates = [entry.rsplit(" ", 1) for entry in img["srcset"].split(", ")]
    assert [width for _, width in candidates] == ["400w", "800w", "1200w", "1600w"]
    for url, width in candidates:
        image = stored_image(url)
        assert image.format == "WEBP"
        assert image.size == (int(width.removesuffix("w")), int(width[:-1]) // 2)
    assert img["src"] == candidates[-1][0]
    assert (img["width"], img["height"]) == ("1600", "800")
    assert img["sizes"].endswith("calc(100vw - 24px)")
    assert img["alt"] == "A calm infusion room"
    assert img["fetchpriority"] == "high"
    assert "loading" not in img


def test_small_image_is_not_enlarged(admin_client, client, clinic):
    article = upload(admin_client, image_bytes(size=(640, 480)))

    img = hero_img(client, article)

    assert img["srcset"].endswith("-400w.webp 400w, " + img["src"] + " 640w")
    assert stored_image(img["src"]).size == (640, 480)
    assert (img["width"], img["height"]) == ("640", "480")


def test_photo_taken_sideways_is_shown_upright(admin_client, client, clinic):
    photo = Image.new("RGB", (900, 600), "teal")
    exif = photo.getexif()
    exif[0x0112] = 6  # Orientation: the camera was turned 90 degrees
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", exif=exif)
    article = upload(admin_client, buffer.getvalue(), "phone.jpg", "image/jpeg")

    img = hero_img(client, article)

    assert (img["width"], img["height"]) == ("600", "900")
    assert stored_image(img["src"]).size == (600, 900)


def test_transparent_image_keeps_its_transparency(admin_client, client, clinic):
    buffer = io.BytesIO()
    Image.new("RGBA", (500, 500), (0, 128, 128, 0)).save(buffer, "PNG")
    article = upload(admin_client, buffer.getvalue())

    image = stored_image(hero_img(client, article)["src"])

    assert image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 0


def test_replaced_or_removed_image_changes_the_copies(
    admin_client, client, clinic, django_capture_on_commit_callbacks
):
    article = upload(admin_client, image_bytes(size=(900, 300)))
    first_src = hero_img(client, article)["src"]

    with django_capture_on_commit_callbacks(execute=True):
        article.hero_image = SimpleUploadedFile("new.png", image_bytes((300, 300)))
        article.save()
    img = hero_img(client, article)
    assert img["src"] != first_src
    assert (img["width"], img["height"]) == ("300", "300")

    with django_capture_on_commit_callbacks(execute=True):
        article.hero_image = ""
        article.hero_image_alt = ""
        article.save()
    assert article.hero_image_renditions == {}
    assert "<figure" not in client.get(article.get_absolute_url()).text


@pytest.mark.parametrize(
    ("image_format", "name"),
    [("JPEG", "phone.jpg"), ("PNG", "phone.png"), ("WEBP", "phone.webp")],
)
def test_uploaded_photo_is_stored_upright_without_its_metadata(
    editor_client, clinic, image_format, name
):
    content, icc_profile = photo_with_metadata(image_format)
    assert CAMERA_MODEL.encode() in content

    article = upload(editor_client, content, name, "image/jpeg")

    with article.hero_image.open("rb") as file:
        stored = file.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == image_format
    assert not image.getexif().get_ifd(GPS_IFD)
    assert dict(image.getexif()) == {}
    for leftover in (
        CAMERA_MODEL.encode(),
        b"Jane Patient",
        b"Example Lane",
        b"xmpmeta",
    ):
        assert leftover not in stored
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Author"} & set(
        image.info
    )
    assert image.info.get("icc_profile") == icc_profile
    assert image.size == (600, 900)
    # Turned upright: the orange left third is now the top third.
    assert image.convert("RGB").getpixel((300, 100))[0] > 200
    assert image.convert("RGB").getpixel((300, 800))[0] < 50


@pytest.mark.parametrize("name", ["photo.jpg", "photo.eps"])
def test_eps_is_refused_before_anything_is_stored_or_ghostscript_runs(
    editor_client, settings, monkeypatch, tmp_path, name
):
    # A Ghostscript on the PATH that leaves a trace if Pillow ever starts it.
    started = tmp_path / "ghostscript-started"
    fake_gs = tmp_path / "bin" / "gs"
    fake_gs.parent.mkdir()
    fake_gs.write_text(f"#!/bin/sh\ntouch {started}\n")
    fake_gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_gs.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)

    text, codes = refused(editor_client, EPS, name)

    assert codes == ["image_format_not_accepted"]
    assert "Please upload a JPEG, PNG or WebP picture" in text
    assert files_in_media(settings) == []
    assert not started.exists()


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
@pytest.mark.parametrize("extension", ["png", "other"])
def test_formats_other_than_jpeg_png_and_webp_are_refused(
    editor_client, settings, image_format, extension
):
    name = f"photo.{image_format.lower() if extension == 'other' else extension}"

    text, codes = refused(editor_client, image_bytes(image_format=image_format), name)

    assert codes == ["image_format_not_accepted"]
    assert files_in_media(settings) == []


@pytest.mark.parametrize("size", [(13_000, 13_000), (14_000, 14_000)])
def test_picture_of_too_many_pixels_is_refused_before_it_is_decoded(
    editor_client, settings, size
):
    # Two-colour PNGs: a few kilobytes for 169 and 196 million pixels (Pillow
    # itself gives up on the second).
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")

    text, codes = refused(editor_client, buffer.getvalue(), "huge.png")

    assert codes == ["image_too_many_pixels"]
    assert "This picture is larger than 40 megapixels" in text
    assert files_in_media(settings) == []


def test_pixel_limit_is_the_setting(editor_client, clinic, settings):
    settings.HERO_IMAGE_MAX_PIXELS = 1_000_000

    _, codes = refused(editor_client, image_bytes(size=(1001, 1000)), "wide.png")
    article = upload(editor_client, image_bytes(size=(1000, 1000)))

    assert codes == ["image_too_many_pixels"]
    assert article.hero_image.width == 1000


@pytest.mark.parametrize(
    ("size", "mode", "preview_format", "preview_size"),
    [
        ((2400, 1200), "RGB", "JPEG", (1200, 600)),
        ((640, 480), "RGB", "JPEG", (640, 480)),
        ((1600, 1600), "RGBA", "PNG", (1200, 1200)),
    ],
)
def test_link_preview_copy_is_a_jpeg_or_png_at_most_1200_wide(
    editor_client, clinic, size, mode, preview_format, preview_size
):
    buffer = io.BytesIO()
    Image.new(mode, size, (0, 128, 128, 0) if mode == "RGBA" else "teal").save(
        buffer, "PNG"
    )
    article = upload(editor_client, buffer.getvalue())

    preview = article.hero_image_renditions["preview"]

    image = stored_image(default_storage.url(preview["name"]))
    assert image.format == preview_format
    assert image.size == preview_size == (preview["width"], preview["height"])
    assert preview["content_type"] == f"image/{preview_format.lower()}"


def test_pictures_uploaded_before_lose_their_metadata_in_place(make_article, clinic):
    content, _ = photo_with_metadata("JPEG", orientation=1)
    name = default_storage.save("articles/old.jpg", ContentFile(content))
    article = make_article(hero_image=name, hero_image_alt="An old picture")
    # As saved before link-preview copies were made.
    renditions = article.hero_image_renditions
    default_storage.delete(renditions["preview"]["name"])
    Article.objects.filter(pk=article.pk).update(
        hero_image_renditions={key: renditions[key] for key in ("source", "renditions")}
    )
    migration = importlib.import_module(
        "pages.migrations.0003_hero_image_without_metadata_and_preview"
    )

    migration.strip_metadata_and_make_previews(apps, None)

    article.refresh_from_db()
    assert article.hero_image.name == name
    with default_storage.open(name) as file:
        stored = file.read()
    assert CAMERA_MODEL.encode() not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert article.hero_preview["url"] == "/media/articles/old-preview.jpg"
