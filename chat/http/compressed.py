"""Static text assets served compressed: brotli or gzip, whichever the client accepts, with
`Vary: Accept-Encoding` and an ETag per encoding.

hypercorn and quart compress nothing, and the widget bundle (42 KB) and the console (104 KB of
script) went over the wire as they are. Each asset is compressed once, at the highest levels
(brotli 11 takes ~0.2 s for the console's script, so it runs in a worker thread), and its three
forms are kept in memory; a request only picks one. Brotli comes from Google's `brotli` package
(the reference implementation's binding); gzip from the standard library, with mtime 0 so the
same bytes always compress to the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import brotli
import trio
from quart import Response, request

# Below this size compressing saves less than the headers it adds.
MIN_COMPRESSED_BYTES = 512
# Content types worth compressing; images and fonts are compressed already.
COMPRESSIBLE_SUFFIXES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
}
# Preferred first when the client accepts several at the same weight.
ENCODINGS = ("br", "gzip", "identity")


@dataclass(frozen=True)
class CompressedAsset:
    """One asset's bytes as they are, brotli'd and gzipped (None when not worth it)."""

    body: bytes
    sha256: str
    br: bytes | None
    gz: bytes | None

    @classmethod
    def of(cls, body: bytes) -> CompressedAsset:
        sha256 = hashlib.sha256(body).hexdigest()
        if len(body) < MIN_COMPRESSED_BYTES:
            return cls(body, sha256, None, None)
        br = brotli.compress(body, quality=11)
        gz = gzip.compress(body, compresslevel=9, mtime=0)
        return cls(body, sha256, br, gz)

    def encoded(self, encoding: str) -> bytes | None:
        return {"br": self.br, "gzip": self.gz, "identity": self.body}.get(encoding)


def chosen_encoding(asset: CompressedAsset) -> str:
    """The best encoding the request accepts (werkzeug parses Accept-Encoding and its q-values)."""
    offered = [e for e in ENCODINGS if asset.encoded(e) is not None]
    return request.accept_encodings.best_match(offered, default="identity") or "identity"


def asset_response(asset: CompressedAsset, content_type: str, cache_control: str) -> Response:
    """200 with the chosen encoding, or 304 when the client holds that very encoding."""
    encoding = chosen_encoding(asset)
    # A strong ETag names exact bytes, so each encoding has its own.
    etag = asset.sha256 if encoding == "identity" else f"{asset.sha256}-{encoding}"
    if request.if_none_match.contains_weak(etag):
        response = Response(b"", status=304)
    else:
        body = asset.encoded(encoding)
        assert body is not None  # chosen among the encodings the asset has
        response = Response(body, content_type=content_type)
        if encoding != "identity":
            response.headers["Content-Encoding"] = encoding
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    if asset.br is not None:
        response.headers["Vary"] = "Accept-Encoding"
    return response


class AssetDirectory:
    """Compressed copies of the text files of one folder, made on first request and made again
    when a file changes (checked by size and mtime: a rebuilt console is served without a
    restart). Only files that exist are held, so the memory is bounded by the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: dict[str, tuple[tuple[int, int], CompressedAsset]] = {}

    async def get(self, name: str) -> tuple[CompressedAsset, str] | None:
        """The asset and its content type; None when `name` is not a compressible file here."""
        content_type = COMPRESSIBLE_SUFFIXES.get(Path(name).suffix)
        if content_type is None or "/" in name or name.startswith("."):
            return None
        path = trio.Path(self.folder / name)
        try:
            stat = await path.stat()
        except FileNotFoundError:
            return None
        version = (stat.st_size, stat.st_mtime_ns)
        held = self._held.get(name)
        if held is not None and held[0] == version:
            return held[1], content_type
        body = await path.read_bytes()
        asset = await trio.to_thread.run_sync(CompressedAsset.of, body)
        self._held[name] = (version, asset)
        return asset, content_type
