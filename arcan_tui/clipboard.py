"""Images from the system clipboard, and image files dragged into the terminal.

A terminal passes only text to the program inside it, so an image on the clipboard is read with
the platform's own tool. ``READERS`` is the registry of those tools, tried in order: ``wl-paste``
under Wayland, ``xclip`` under X11, ``pngpaste`` or ``osascript`` on macOS. Each runs as a plain
subprocess (an argument list, no shell) with a timeout. What a reader returns must start with
the signature of an image format a model takes (PNG, JPEG, GIF, WebP), so a tool that answers
with text, or an error page, never becomes an "image".

A pasted image is saved under ``.arcan/attachments/`` (ignored by git) and attached as an
``@path`` marker, exactly as an image file named by path is. A file dragged into a terminal
arrives as a bracketed paste of its path (quoted or backslash-escaped, or a ``file://`` URI):
``dropped_images`` recognises such a paste so the prompt can attach it instead of typing it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote, urlparse

from arcan_core.errors import ArcanError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "ATTACHMENTS_DIR",
    "MAX_IMAGE_BYTES",
    "READERS",
    "ClipboardImage",
    "ImageReader",
    "attachment_marker",
    "dropped_images",
    "image_media_type",
    "read_clipboard_image",
    "save_attachment",
]

ATTACHMENTS_DIR = Path(".arcan") / "attachments"
"""Where pasted images are saved, relative to the project."""

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Larger clipboard contents are refused: no model API takes an image this big."""

TOOL_TIMEOUT_S = 5.0
"""A clipboard tool that has not answered by then is stuck (an X11 owner that went away)."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
IMAGE_TYPES: tuple[str, ...] = tuple(_SUFFIXES)
"""MIME types asked of a clipboard, most preferred first (PNG is lossless and universal)."""


def image_media_type(data: bytes) -> str | None:
    """Return the MIME type of ``data`` by its signature, or ``None`` if it is no image we take."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((media for magic, media in _SIGNATURES if data.startswith(magic)), None)


@dataclass(frozen=True)
class ClipboardImage:
    """Image bytes read from the clipboard, and which tool read them."""

    data: bytes
    media_type: str
    source: str

    @property
    def suffix(self) -> str:
        """The file suffix for the media type."""
        return _SUFFIXES[self.media_type]


class _NoImageError(Exception):
    """The tool ran and the clipboard holds no image (not a failure of the tool)."""


def _run(argv: Sequence[str], env: Mapping[str, str]) -> bytes:
    """Run a clipboard tool; its stdout, or ``_NoImageError`` when it fails or says nothing."""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed tool and fixed arguments, no shell
            list(argv),
            capture_output=True,
            timeout=TOOL_TIMEOUT_S,
            env=dict(env),
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _NoImageError(str(error)) from error
    if done.returncode != 0 or not done.stdout:
        raise _NoImageError(done.stderr.decode(errors="replace").strip())
    return done.stdout


def _pick(offered: bytes) -> str:
    types = {line.strip() for line in offered.decode(errors="replace").splitlines()}
    chosen = next((media for media in IMAGE_TYPES if media in types), None)
    if chosen is None:
        raise _NoImageError("no image type offered")
    return chosen


class ImageReader(ABC):
    """One way of reading an image from the system clipboard."""

    name: ClassVar[str]
    tool: ClassVar[str]
    """The executable this reader runs (looked up on the ``PATH`` of ``env``)."""

    def usable(self, env: Mapping[str, str], platform: str) -> bool:
        """Whether this reader applies here: its session type, and its tool on ``PATH``."""
        return self.applies(env, platform) and self.executable(env) is not None

    def executable(self, env: Mapping[str, str]) -> str | None:
        """The tool's path, or ``None`` when it is not installed."""
        return shutil.which(self.tool, path=env.get("PATH", os.defpath))

    @abstractmethod
    def applies(self, env: Mapping[str, str], platform: str) -> bool:
        """Whether the desktop session is the kind this tool serves."""

    @abstractmethod
    def read(self, env: Mapping[str, str]) -> bytes:
        """Return the clipboard's image bytes; raise ``_NoImageError`` when there is none."""


class WaylandReader(ImageReader):
    """``wl-paste`` (wl-clipboard), under a Wayland compositor."""

    name = "wl-paste"
    tool = "wl-paste"

    def applies(self, env: Mapping[str, str], platform: str) -> bool:
        """A Wayland session."""
        return bool(env.get("WAYLAND_DISPLAY"))

    def read(self, env: Mapping[str, str]) -> bytes:
        """Ask which types the clipboard offers, then read the preferred image type."""
        media = _pick(_run([self.tool, "--list-types"], env))
        return _run([self.tool, "--no-newline", "--type", media], env)


class XclipReader(ImageReader):
    """``xclip``, under X11 (and XWayland)."""

    name = "xclip"
    tool = "xclip"

    def applies(self, env: Mapping[str, str], platform: str) -> bool:
        """An X11 display."""
        return bool(env.get("DISPLAY"))

    def read(self, env: Mapping[str, str]) -> bytes:
        """Ask for the clipboard's targets, then read the preferred image target."""
        base = [self.tool, "-selection", "clipboard", "-o", "-t"]
        media = _pick(_run([*base, "TARGETS"], env))
        return _run([*base, media], env)


class PngpasteReader(ImageReader):
    """``pngpaste`` (Homebrew), on macOS: writes the clipboard's image as PNG to stdout."""

    name = "pngpaste"
    tool = "pngpaste"

    def applies(self, env: Mapping[str, str], platform: str) -> bool:
        """On macOS."""
        return platform == "darwin"

    def read(self, env: Mapping[str, str]) -> bytes:
        """Run ``pngpaste -``."""
        return _run([self.tool, "-"], env)


_APPLESCRIPT = (
    "on run argv",
    "set png to (the clipboard as «class PNGf»)",
    "set out to open for access (POSIX file (item 1 of argv)) with write permission",
    "write png to out",
    "close access out",
    "end run",
)
"""Writes the clipboard as PNG to the file named by the first argument; fails without an image."""


class OsascriptReader(ImageReader):
    """AppleScript through ``osascript``, on every macOS (no extra tool to install)."""

    name = "osascript"
    tool = "osascript"

    def applies(self, env: Mapping[str, str], platform: str) -> bool:
        """On macOS."""
        return platform == "darwin"

    def read(self, env: Mapping[str, str]) -> bytes:
        """Have AppleScript write the PNG to a temporary file, then read it."""
        with tempfile.TemporaryDirectory(prefix="arcan-clip-") as directory:
            target = Path(directory) / "clipboard.png"
            script = [arg for line in _APPLESCRIPT for arg in ("-e", line)]
            # The script writes nothing to stdout on success: only the file tells.
            with contextlib.suppress(_NoImageError):
                _run([self.tool, *script, str(target)], env)
            try:
                data = target.read_bytes()
            except OSError as error:
                raise _NoImageError(str(error)) from error
        if not data:
            raise _NoImageError("empty")
        return data


READERS: tuple[ImageReader, ...] = (
    WaylandReader(),
    XclipReader(),
    PngpasteReader(),
    OsascriptReader(),
)
"""Clipboard readers, tried in order; the first usable one that finds an image wins."""

_INSTALL_HINT = (
    "install wl-clipboard (Wayland) or xclip (X11); on macOS osascript is built in. "
    "Or save the image and attach it with @path"
)


def read_clipboard_image(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    readers: Sequence[ImageReader] = READERS,
) -> ClipboardImage:
    """Read an image from the system clipboard with the first reader that finds one.

    Raises:
        ArcanError: no reader is usable here, the clipboard holds no image, or the image is
            larger than ``MAX_IMAGE_BYTES``.
    """
    environment = dict(os.environ if env is None else env)
    usable = [reader for reader in readers if reader.usable(environment, platform)]
    if not usable:
        raise ArcanError("no clipboard tool found to read an image with", hint=_INSTALL_HINT)
    for reader in usable:
        try:
            data = reader.read(environment)
        except _NoImageError:
            continue
        media_type = image_media_type(data)
        if media_type is None:
            continue
        if len(data) > MAX_IMAGE_BYTES:
            size = len(data) / (1024 * 1024)
            raise ArcanError(
                f"the clipboard image is {size:.0f} MiB; the limit is "
                f"{MAX_IMAGE_BYTES // (1024 * 1024)} MiB",
                hint="scale it down, or crop it, and paste again",
            )
        return ClipboardImage(data, media_type, reader.name)
    tried = ", ".join(reader.name for reader in usable)
    raise ArcanError(
        f"the clipboard holds no image (asked {tried})",
        hint="copy an image (a screenshot) first; Ctrl+V pastes images only",
    )


def save_attachment(
    image: ClipboardImage, project_dir: Path, *, now: datetime | None = None
) -> Path:
    """Save ``image`` under the project's attachments directory and return its path.

    The directory gets a ``.gitignore`` of its own: a pasted screenshot is not project source.
    """
    directory = project_dir / ATTACHMENTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by arcan: pasted images stay on this machine.\n*\n")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    for number in range(1, 1000):
        target = directory / f"paste-{stamp}-{number}{image.suffix}"
        try:
            # "x": never overwrite an attachment an earlier prompt refers to.
            with target.open("xb") as out:
                out.write(image.data)
        except FileExistsError:
            continue
        return target
    raise ArcanError(f"too many pasted images in {directory} this second", hint="paste again")


def attachment_marker(path: Path, project_dir: Path) -> str | None:
    """The ``@path`` word that attaches ``path``: relative inside the project, else absolute.

    ``None`` when the path has whitespace: a prompt's ``@`` words end at the first space.
    """
    resolved = path.resolve()
    try:
        shown = resolved.relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        shown = resolved.as_posix()
    return None if any(ch.isspace() for ch in shown) else f"@{shown}"


def _as_path(word: str) -> Path:
    if word.startswith("file://"):
        return Path(unquote(urlparse(word).path))
    return Path(word).expanduser()


def dropped_images(pasted: str, suffixes: frozenset[str]) -> list[Path] | None:
    """The image files a paste names, if it is nothing but their paths; else ``None``.

    Terminals paste a dropped file's path quoted or with escaped spaces, or as a ``file://``
    URI; several dropped files come separated by spaces or newlines.
    """
    text = pasted.strip()
    if not text or len(text) > 4096:
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    paths = [_as_path(word) for word in words]
    if not paths or not all(p.suffix.lower() in suffixes and p.is_file() for p in paths):
        return None
    return paths
