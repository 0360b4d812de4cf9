"""Names, paths and atomic writes of user mask datasets: what every part of the store shares."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from cv_core.datasets.base import DatasetError
from cv_core.i18n import N_, LazyText

try:  # advisory locks between writers; absent on Windows, where writers are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Linux CI
    fcntl = None

DATA_ROOT_ENV = "CONVNET_LAB_DATA"
#: ``open_dataset("user:<name>")`` opens a user mask dataset.
USER_PREFIX = "user:"
#: The PNG text key in a mask that holds the SHA-256 of its image file.
IMAGE_HASH_KEY = "convnet_lab_image_sha256"
#: The PNG text key in an instance map that holds the SHA-256 of its mask file.
MASK_HASH_KEY = "convnet_lab_mask_sha256"
DATASET_FILE = "dataset.json"
#: The folder of a dataset that keeps instance maps beside the masks (``instances/<id>.png``).
INSTANCES_DIR = "instances"
#: The folder of a dataset that keeps unsaved drawings (see :meth:`UserMaskStore.save_draft`).
DRAFTS_DIR = "drafts"
#: Drafts untouched for this many days are removed when another draft is written.
DRAFT_MAX_AGE_DAYS = 30
MAX_NAME_LENGTH = 64
MAX_CLASSES = 256  # one byte per mask pixel
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@contextlib.contextmanager
def dataset_lock(folder: Path):
    """Hold ``folder/.lock`` while writing one dataset: writers of a dataset take turns
    (``fcntl`` advisory locks; on Windows, which has none, writers are not serialised)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def default_data_root(data_root: str | os.PathLike | None = None) -> Path:
    """The data root: ``data_root`` if given, else ``$CONVNET_LAB_DATA``, else ``./data``."""
    chosen = data_root if data_root is not None else os.environ.get(DATA_ROOT_ENV) or "data"
    return Path(os.path.expanduser(str(chosen))).absolute()


def check_plain_name(name, what: str = N_("dataset name")) -> str:
    """Return ``name`` if it is a plain name (see the module docstring), else raise DatasetError."""
    if not isinstance(name, str) or not name:
        raise DatasetError(N_("Please give a {what}: 1 to {MAX_NAME_LENGTH} letters, digits, '-' or '_'."), what=LazyText(what), MAX_NAME_LENGTH=MAX_NAME_LENGTH)
    if len(name) > MAX_NAME_LENGTH:
        raise DatasetError(N_("The {what} {name}... is too long: at most {MAX_NAME_LENGTH} characters."), what=LazyText(what), name=repr(name[:20]), MAX_NAME_LENGTH=MAX_NAME_LENGTH)
    if not _PLAIN_NAME.fullmatch(name):
        raise DatasetError(
            N_("The {what} {name} is not a plain name. Use only the letters A-Z and a-z, digits, '-' "
               "and '_', and start with a letter or a digit."), what=LazyText(what), name=repr(name)
        )
    return name


def mask_label(mask: np.ndarray, background: int) -> int:
    """The image-level label of a mask: its non-background class with the most pixels.

    Ties go to the lower class index; a mask with no object pixels is labelled ``background``.
    """
    counts = np.bincount(np.asarray(mask).ravel().astype(np.int64))
    if background < len(counts):
        counts[background] = 0
    return int(np.argmax(counts)) if len(counts) and counts.max() > 0 else int(background)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def create_dataset_folder(root: Path, name: str, fill, already_exists) -> Path:
    """Create the dataset folder ``root / name`` all at once, or not at all.

    ``fill(staging)`` writes the new dataset's files into a hidden staging folder of ``root``,
    which is then renamed into place (atomic; it fails if another writer got there first). On any
    error the staging folder is removed and nothing is left behind.

    Args:
        root: the store's folder (made if missing).
        name: a plain dataset name (checked by the caller).
        fill: ``fill(staging: Path) -> None``.
        already_exists: ``already_exists() -> Exception``, raised when ``root / name`` exists.

    Returns:
        The new folder.
    """
    final = root / name
    if final.exists():
        raise already_exists()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".creating-{name}-", dir=root))
    try:
        fill(staging)
        try:
            os.rename(staging, final)
        except OSError:
            raise already_exists() from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(root)
    return final


def dataset_names(root: Path) -> list[str]:
    """The names of the datasets in a store folder, sorted: plain-named folders with a ``dataset.json``."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if _PLAIN_NAME.fullmatch(p.name) and len(p.name) <= MAX_NAME_LENGTH
                  and (p / DATASET_FILE).is_file())


def _write_temp(folder: Path, stem: str, data: bytes) -> Path:
    """``data`` in a new hidden temporary file of ``folder``, flushed to disk."""
    handle, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _png_text(data: bytes, key: str) -> str | None:
    """The text a PNG records under ``key`` (header chunks only), or None (no such text, or not a PNG)."""
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            value = image.info.get(key)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _mask_image_hash(data: bytes) -> str | None:
    """The image hash a mask PNG records, or None."""
    return _png_text(data, IMAGE_HASH_KEY)


#: The most an imported zip may unpack to (pictures and one COCO file).
MAX_IMPORT_BYTES = 512 * 1024 * 1024


@contextlib.contextmanager
def unpacked_zip(data: bytes, prefix: str, max_bytes: int = MAX_IMPORT_BYTES):
    """Unpack a zip someone uploaded into a temporary folder (yielded as a ``Path``), safely; removed after.

    Refuses (``DatasetError``) what is not a zip, a zip that unpacks to more than ``max_bytes``, and any
    member whose name is absolute, climbs out with ``..`` or holds a backslash (nothing is written
    outside the folder). Hidden files and macOS's ``__MACOSX`` folder are left out. The mask and
    keypoint stores' COCO imports share it.
    """
    import shutil
    import zipfile
    from pathlib import PurePosixPath

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise DatasetError(N_("That file is not a zip archive.")) from None
    with archive, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > max_bytes:
            raise DatasetError(N_("The zip unpacks to more than {value} MB; import a smaller one."), value=max_bytes // 2**20)
        for member in members:
            path = PurePosixPath(member.filename)
            if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
                raise DatasetError(N_("The zip holds a file with an unsafe name ({filename})."), filename=repr(member.filename))
            if path.name.startswith(".") or path.parts[0] == "__MACOSX":
                continue
            target = Path(tmp, *path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
        yield Path(tmp)
