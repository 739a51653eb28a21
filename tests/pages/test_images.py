import io
import re

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pages.models import Article
from tests.conftest import image_bytes
from tests.pages.test_admin import article_form


def upload(admin_client, content, name="hero.png", content_type="image/png"):
    image = SimpleUploadedFile(name, content, content_type=content_type)
    response = admin_client.post(
        "/admin/pages/article/add/",
        article_form(
            hero_image=image, hero_image_alt="A calm infusion room", publish_now=True
        ),
    )
    assert response.status_code == 302
    return Article.objects.get()


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
