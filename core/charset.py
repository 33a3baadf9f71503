"""The character encoding of an HTML page read as bytes: what the page says it is.

The order is the one browsers follow (WHATWG "encoding sniffing", simplified): a byte order
mark, then the charset the page declares in its first 1,024 bytes (``<meta charset>`` or
``<meta http-equiv="Content-Type" content="…; charset=…">``, or an XML declaration), then
UTF-8, then a guess from the bytes (charset-normalizer). Labels are mapped as browsers map
them: ``iso-8859-1``/``latin1``/``us-ascii`` mean windows-1252, ``shift_jis`` means
Microsoft's cp932, ``gb2312`` means GBK.
"""

from __future__ import annotations

import codecs
import re

#: How far into the page the declaration is looked for (the HTML standard's prescan length).
PRESCAN_BYTES = 1024

_META = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)""")

#: Labels whose browser meaning is a superset codec (what pages labelled so really hold).
_BROWSER_CODEC = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "windows-31j": "cp932", "gb2312": "gbk", "x-gbk": "gbk", "euc-kr": "cp949",
    "tis-620": "cp874", "iso-8859-11": "cp874",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


class UndecodableHTML(ValueError):
    """The page's bytes are not text in its declared charset, UTF-8, or a guessable one."""


def declared_charset(data: bytes) -> str | None:
    """The charset the page declares near its start (a codec name Python knows), or None."""
    head = data[:PRESCAN_BYTES]
    match = _XML_DECL.match(head.lstrip()) or _META.search(head)
    return _codec(match.group(1).decode("ascii")) if match else None


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    label = _BROWSER_CODEC.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # a page "declared" UTF-16 in ASCII-compatible bytes cannot be; browsers read it as UTF-8
    return "utf-8" if name.startswith("utf-16") else name


def decode_html(data: bytes) -> tuple[str, str]:
    """The page's text and the encoding it was read with; ``UndecodableHTML`` if none fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding.removesuffix("-sig")
    declared = declared_charset(data)
    tried: list[str] = []
    for candidate in (declared, "utf-8"):
        if candidate is None or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        said = f"declared {declared}" if declared else "no charset declared"
        raise UndecodableHTML(f"the page's bytes are not text ({said}, not UTF-8, and no "
                              "encoding could be recognized)")
    return str(best), best.encoding
