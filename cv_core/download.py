"""Downloads for real users: resumable, checksummed, with progress and a clear offline error.

Nothing in the lab downloads by default. These functions run only when a person asks for a
dataset that is not on disk yet. The tests run them against a local HTTP server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from cv_core.i18n import N_, TranslatedError

__all__ = ["DownloadError", "DownloadProgress", "download_file", "extract_archive", "file_digest"]

CHUNK = 1 << 16


class DownloadError(TranslatedError, RuntimeError):
    """A download failed; the message says why and what to do about it."""


@dataclass(frozen=True)
class DownloadProgress:
    """Where a download stands: bytes on disk so far and the expected total (None if unknown)."""

    url: str
    done: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        """Completed fraction in [0, 1], or None when the server did not say the size."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[DownloadProgress], None]


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks (``algorithm`` is any hashlib name, e.g. "md5")."""
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _offline_error(url: str, exc: BaseException) -> DownloadError:
    return DownloadError(
        N_("Could not reach {url} ({exc}). This machine looks offline or the server is down. "
           "Download the file on a connected machine and put it in the data folder, or try again "
           "later."), url=url, exc=exc
    )


def download_file(
    url: str,
    destination: str | os.PathLike,
    *,
    checksum: str | None = None,
    algorithm: str = "md5",
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``destination``, resuming a partial download if one exists.

    Bytes go to ``destination + ".part"`` first; an interrupted download continues from there
    with an HTTP Range request. The finished file is checked against ``expected_size`` and
    ``checksum`` before it is moved into place, so a file at ``destination`` is always whole.

    Args:
        url: http(s) address of the file.
        destination: where the finished file goes. An existing file that passes the checks is
            kept and not downloaded again.
        checksum: expected hex digest (``algorithm``), or None to skip the check.
        algorithm: hashlib name of the checksum, "md5" (what the Oxford-IIIT site publishes) or
            "sha256".
        expected_size: expected size in bytes, or None to trust the server's Content-Length.
        progress: called with a :class:`DownloadProgress` as bytes arrive.
        timeout: seconds to wait for the server on each read.

    Returns:
        The destination path.

    Raises:
        DownloadError: offline, HTTP error, size or checksum mismatch (the bad file is deleted).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists() and _passes(destination, checksum, algorithm, expected_size):
        return destination
    partial = destination.with_name(destination.name + ".part")
    done = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "convnet-lab"})
    if done:
        request.add_header("Range", f"bytes={done}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # the partial file is already complete
            response = None
        else:
            raise DownloadError(N_("The server refused {url}: HTTP {code} {reason}."), url=url, code=exc.code, reason=exc.reason) from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        raise _offline_error(url, getattr(exc, "reason", exc)) from None
    except http.client.HTTPException as exc:  # e.g. BadStatusLine: not a web server's reply
        raise DownloadError(
            N_("The server at {url} did not answer like a web server ({__name__}). Check the address, "
               "or try again later."), url=url, __name__=type(exc).__name__
        ) from None

    total = expected_size
    if response is not None:
        with response:
            resumed = response.status == 206
            if not resumed:
                done = 0  # the server ignored the range: start over
            length = response.headers.get("Content-Length")
            if total is None and length is not None:
                total = int(length) + (done if resumed else 0)
            try:
                with open(partial, "ab" if resumed else "wb") as out:
                    while True:
                        chunk = response.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(DownloadProgress(url, done, total))
            except (socket.timeout, ConnectionError, OSError, http.client.HTTPException) as exc:
                raise DownloadError(
                    N_("The download of {url} stopped after {done:,} bytes ({exc}). Run it again to resume "
                       "where it stopped."), url=url, done=done, exc=exc
                ) from None
    size = partial.stat().st_size
    if total is not None and size != total:
        if size > total:
            partial.unlink()
        raise DownloadError(
            N_("The download of {url} is incomplete: {size:,} of {total:,} bytes. Run it again to "
               "resume where it stopped."), url=url, size=size, total=total
        )
    if checksum is not None:
        digest = file_digest(partial, algorithm)
        if digest.lower() != checksum.lower():
            partial.unlink()
            raise DownloadError(
                N_("The file from {url} is corrupt: its {algorithm} checksum is {digest}, expected "
                   "{checksum}. The bad copy was deleted; please download it again."), url=url, algorithm=algorithm, digest=digest, checksum=checksum
            )
    os.replace(partial, destination)
    return destination


def _passes(path: Path, checksum: str | None, algorithm: str, expected_size: int | None) -> bool:
    if expected_size is not None and path.stat().st_size != expected_size:
        return False
    return checksum is None or file_digest(path, algorithm).lower() == checksum.lower()


def extract_archive(archive: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """Extract a .tar/.tar.gz safely into ``destination``.

    Uses tarfile's "data" filter: members whose paths or links lead outside the folder
    (``..``) and device files are refused instead of written; absolute member names lose
    their leading slash and land inside the folder.

    Raises:
        DownloadError: the archive is damaged or contains unsafe members.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DownloadError(N_("Could not unpack {name}: {exc}."), name=Path(archive).name, exc=exc) from None
    return destination

