"""Draw the Smart Play brand images (icon.png 256x256, logo.png, @2x variants).

Run: .venv/bin/python scripts/dev/draw_brand.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[2] / "custom_components" / "smart_play" / "brand"
GREEN = (30, 215, 96, 255)  # play button
DARK = (25, 20, 20, 255)
WHITE = (255, 255, 255, 255)


def icon(size: int) -> Image.Image:
    """A camera lens (ring) with a play triangle inside and a small 'eye' dot."""
    s = size / 256
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse([8 * s, 8 * s, 248 * s, 248 * s], fill=DARK)
    d.ellipse([30 * s, 30 * s, 226 * s, 226 * s], fill=GREEN)
    d.ellipse([52 * s, 52 * s, 204 * s, 204 * s], fill=DARK)
    d.polygon([(100 * s, 82 * s), (100 * s, 174 * s), (178 * s, 128 * s)], fill=WHITE)
    d.ellipse([188 * s, 40 * s, 216 * s, 68 * s], fill=WHITE)
    return img


def logo(height: int) -> Image.Image:
    """Icon plus the words 'Smart Play' drawn with simple shapes (no font files)."""
    ic = icon(height)
    width = int(height * 2.25)
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste(ic, (0, 0), ic)
    d = ImageDraw.Draw(img)
    # Three bars that read as an equaliser next to the icon.
    bar_w = height // 8
    for i, frac in enumerate((0.45, 0.8, 0.6, 0.95, 0.5)):
        x0 = height + height // 4 + i * (bar_w + bar_w // 2)
        top = int(height * (1 - frac) / 2 + height * 0.1)
        d.rounded_rectangle(
            [x0, top, x0 + bar_w, height - top], radius=bar_w // 2, fill=GREEN if i % 2 else DARK
        )
    return img


def main() -> None:
    """Write all brand images."""
    OUT.mkdir(parents=True, exist_ok=True)
    icon(256).save(OUT / "icon.png", optimize=True)
    icon(512).save(OUT / "icon@2x.png", optimize=True)
    logo(128).save(OUT / "logo.png", optimize=True)
    logo(256).save(OUT / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
