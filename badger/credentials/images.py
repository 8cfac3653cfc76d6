"""Default badge images for achievements defined without one.

OB 2.0 requires a BadgeClass ``image`` and baking needs a picture to carry the
credential, so every achievement gets one: a round badge in a colour derived
from its slug, with the achievement's initials.  Deterministic: the same
achievement always gets the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

SIZE = 256
# Dark enough for white text at WCAG AA contrast (>= 4.5:1).
_PALETTE = ("#0b5cad", "#6a1b9a", "#1b5e20", "#8e2a00", "#004d61", "#4a148c", "#263238", "#7b1f3a")


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:3]).upper()
    return letters or "B"


def colour_for(slug: str) -> str:
    digest = hashlib.sha256(slug.encode("utf-8")).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def default_badge_svg(slug: str, name: str) -> bytes:
    text = escape(initials(name))
    label = escape(name, {'"': "&quot;"})
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{label}">'
        f"<title>{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="120" fill="{colour_for(slug)}"/>'
        '<circle cx="128" cy="128" r="104" fill="none" stroke="#ffffff" stroke-width="6"/>'
        '<text x="128" y="150" font-family="sans-serif" font-size="64" font-weight="bold" '
        f'fill="#ffffff" text-anchor="middle">{text}</text>'
        "</svg>"
    )
    return svg.encode("utf-8")


def default_badge_png(slug: str, name: str) -> bytes:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=colour_for(slug))
    draw.ellipse((24, 24, SIZE - 24, SIZE - 24), outline="#ffffff", width=6)
    font = ImageFont.load_default(size=64)
    draw.text((SIZE / 2, SIZE / 2), initials(name), fill="#ffffff", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
