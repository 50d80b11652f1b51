"""Which text encoding a file's bytes are in: UTF-8, UTF-16/32 by byte-order mark, GB18030.

:func:`decode_text` turns the bytes of a text table into text, and :func:`redecode_dbf`
repairs a shapefile's attributes that GDAL read as ISO-8859-1 for want of a ``.cpg`` file.
Both take Chinese GB18030/GBK only when the text reads as common Chinese characters; bytes
that are neither are refused with a message asking for ``--encoding``, never read as
mojibake.
"""

from __future__ import annotations

import codecs
import logging
import warnings
from pathlib import Path

import pandas as pd

from planner.errors import InputDataError, InputWarning

logger = logging.getLogger(__name__)

ENCODINGS = ("utf-8-sig", "gb18030")
UTF8_BOM = b"\xef\xbb\xbf"


def decode_text(raw: bytes, path: Path, encoding: str | None) -> str:
    """The text of a file: the encoding given, else UTF-8, else GB18030 if it reads as Chinese.

    A UTF-8 byte-order mark is dropped but does not force UTF-8: spreadsheets save GBK
    text behind one too. Bytes that are neither UTF-8 nor Chinese GB18030 text are refused
    with a message asking for ``--encoding``, never read as mojibake.
    """
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff")
        except LookupError as err:
            msg = f"{path}: unknown text encoding {encoding!r}; e.g. utf-8, gb18030."
            raise InputDataError(msg) from err
        except UnicodeDecodeError as err:
            msg = (
                f"{path}: the bytes are not valid {encoding} text (byte {err.start}: "
                f"{err.reason}). Give the right encoding with --encoding, or save as UTF-8."
            )
            raise InputDataError(msg) from err
    for mark, name in _UNICODE_BOMS:
        if raw.startswith(mark):
            # UTF-16 and UTF-32 say what they are: Excel's "Unicode text" is UTF-16.
            try:
                return raw[len(mark) :].decode(name)
            except UnicodeDecodeError as err:
                msg = (
                    f"{path}: starts with a {name.upper()} byte-order mark but is not valid "
                    f"{name.upper()} (byte {err.start + len(mark)}). Save it as UTF-8, or give "
                    "the encoding with --encoding."
                )
                raise InputDataError(msg) from err
    bom = raw.startswith(UTF8_BOM)
    body = raw[len(UTF8_BOM) :] if bom else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        utf8_error = err
    tried = ", ".join(ENCODINGS)
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError as err:
        raise InputDataError(key="err_encoding_unknown", file=str(path), tried=tried) from err
    if not _mostly_common_chinese({"text": [text[:200_000]]}):
        raise InputDataError(
            key="err_encoding_ambiguous", file=str(path), byte=utf8_error.start
        ) from utf8_error
    if bom:
        warnings.warn(
            f"{path}: the file starts with a UTF-8 byte-order mark but is not UTF-8 (byte "
            f"{utf8_error.start + len(UTF8_BOM)}); read as GB18030/GBK Chinese text. Check "
            "the names, or give the encoding with --encoding.",
            InputWarning,
            stacklevel=5,
        )
    else:
        logger.info("%s: not UTF-8; read as GB18030/GBK.", path)
    return text


#: Byte-order marks of the UTF-16 and UTF-32 encodings (UTF-32 first: its LE mark starts
#: with UTF-16's).
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def redecode_dbf(path: Path, layer: str | None, gdf: pd.DataFrame) -> pd.DataFrame:
    """Decode a shapefile's text as UTF-8, else GB18030, when the bytes say so.

    Without a ``.cpg`` file (or a language byte in the ``.dbf``) GDAL reads text as
    ISO-8859-1, which turns the UTF-8 or GBK names of Chinese (and most modern)
    shapefiles into mojibake. The ISO-8859-1 text gives back the exact bytes; they are
    taken as UTF-8 when every value decodes strictly, else as GB18030 when every value
    decodes and most Chinese characters are among the 3,755 common ones (GB2312 level 1,
    where accented Latin letters read as GBK almost never fall); else GDAL's reading
    stands.
    """
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry"
        and (pd.api.types.is_string_dtype(gdf[c]) or pd.api.types.is_object_dtype(gdf[c]))
    ]
    raw: dict[str, list[bytes | None]] = {}
    for c in text_cols:
        values = [v.encode("latin-1") if isinstance(v, str) else None for v in gdf[c]]
        if any(b is not None and max(b, default=0) > 127 for b in values):
            raw[c] = values
    if not raw:
        return gdf
    for enc in ("utf-8", "gb18030"):
        try:
            decoded = {c: [None if b is None else b.decode(enc) for b in v] for c, v in raw.items()}
        except UnicodeDecodeError:
            continue
        if enc == "gb18030" and not _mostly_common_chinese(decoded):
            continue
        logger.info("%s: no .cpg file; attributes read as %s.", path, enc)
        out = gdf.copy()
        for c, texts in decoded.items():
            out[c] = pd.Series(texts, index=gdf.index, dtype=object)
        return out
    return gdf


def _mostly_common_chinese(decoded: dict[str, list[str | None]]) -> bool:
    common = rare = 0
    for values in decoded.values():
        for v in values:
            for ch in v or "":
                if ord(ch) < 128:
                    continue
                try:
                    lead = ch.encode("gb2312")[0]
                except UnicodeEncodeError:
                    rare += 1
                    continue
                common += 0xB0 <= lead <= 0xD7
                rare += not 0xB0 <= lead <= 0xD7
    return common > 0 and common >= rare
