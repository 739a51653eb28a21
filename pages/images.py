import io
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

WEBP_QUALITY = 80


def webp_renditions(field_file, widths):
    """
    Save WebP copies of an uploaded image next to it, one for each of the widths
    narrower than the image and one at its own width (at most the widest), and
    describe them: {"source": the image's name, "renditions": [{"name", "width",
    "height"}, ...] from narrowest to widest}.
    """
    stem = PurePosixPath(field_file.name).with_suffix("")
    renditions = []
    with field_file.open("rb"), Image.open(field_file) as original:
        # Phones record their orientation in EXIF; the copies are turned upright.
        image = ImageOps.exif_transpose(original)
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        widest = min(image.width, max(widths))
        for width in [*(width for width in widths if width < widest), widest]:
            height = round(image.height * width / image.width)
            buffer = io.BytesIO()
            image.resize((width, height), Image.Resampling.LANCZOS).save(
                buffer, "WEBP", quality=WEBP_QUALITY
            )
            name = field_file.storage.save(
                f"{stem}-{width}w.webp", ContentFile(buffer.getvalue())
            )
            renditions.append({"name": name, "width": width, "height": height})
    return {"source": field_file.name, "renditions": renditions}
