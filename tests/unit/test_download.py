"""Downloads against a local HTTP server on 127.0.0.1: progress, resume, checksums, errors,
safe unpacking and the Oxford-IIIT Pets download end to end."""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest

from cv_core.datasets import download_oxford_pets, open_dataset
from cv_core.download import DownloadError, DownloadProgress, download_file, extract_archive, file_digest
from tests.unit.fixtures_data import (
    FileServer, PET_NAMES, closed_port, one_reply_server, pet_files, tar_gz,
)

PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture
def server():
    with FileServer({"data.bin": PAYLOAD}) as running:
        yield running


def test_progress_increases_and_ends_at_the_total(server, tmp_path):
    seen: list[DownloadProgress] = []
    path = download_file(f"{server.url}/data.bin", tmp_path / "data.bin", checksum=PAYLOAD_MD5,
                         progress=seen.append)
    assert path == tmp_path / "data.bin" and path.read_bytes() == PAYLOAD
    assert len(seen) >= 3
    done = [p.done for p in seen]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert all(p.total == len(PAYLOAD) for p in seen)
    assert done[-1] == len(PAYLOAD) and seen[-1].fraction == 1.0
    assert 0 < seen[0].fraction < 1
    assert not (tmp_path / "data.bin.part").exists()


def test_an_interrupted_download_resumes_from_the_partial_file(server, tmp_path):
    destination = tmp_path / "data.bin"
    server.cut_after = 100_000
    with pytest.raises(DownloadError, match="resume"):
        download_file(f"{server.url}/data.bin", destination, checksum=PAYLOAD_MD5, timeout=5)
    partial = tmp_path / "data.bin.part"
    assert not destination.exists()
    assert 0 < partial.stat().st_size <= 100_000
    kept = partial.stat().st_size
    seen: list[DownloadProgress] = []
    download_file(f"{server.url}/data.bin", destination, checksum=PAYLOAD_MD5, progress=seen.append, timeout=5)
    assert server.requests[-1] == ("/data.bin", f"bytes={kept}-")
    assert file_digest(destination, "md5") == PAYLOAD_MD5
    assert seen[0].done > kept and seen[-1].done == seen[-1].total == len(PAYLOAD)
    assert not partial.exists()


def test_a_complete_file_is_not_downloaded_again(server, tmp_path):
    download_file(f"{server.url}/data.bin", tmp_path / "data.bin", checksum=PAYLOAD_MD5)
    before = len(server.requests)
    download_file(f"{server.url}/data.bin", tmp_path / "data.bin", checksum=PAYLOAD_MD5)
    assert len(server.requests) == before


def test_checksum_mismatch_deletes_the_bad_file(server, tmp_path):
    with pytest.raises(DownloadError, match="checksum") as info:
        download_file(f"{server.url}/data.bin", tmp_path / "data.bin", checksum="0" * 32)
    assert "deleted" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_sha256_checksums(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    path = download_file(f"{server.url}/data.bin", tmp_path / "d", checksum=digest.upper(), algorithm="sha256")
    assert file_digest(path) == digest


def test_wrong_expected_size_is_an_error(server, tmp_path):
    with pytest.raises(DownloadError, match="incomplete"):
        download_file(f"{server.url}/data.bin", tmp_path / "d", expected_size=len(PAYLOAD) + 10)
    assert not (tmp_path / "d").exists()


def test_http_404_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download_file(f"{server.url}/missing.tar.gz", tmp_path / "missing.tar.gz")
    assert not (tmp_path / "missing.tar.gz").exists()


def test_unreachable_server_says_offline(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/data.bin"
    with pytest.raises(DownloadError, match="offline") as info:
        download_file(url, tmp_path / "data.bin", timeout=5)
    assert url in str(info.value)
    assert not (tmp_path / "data.bin").exists()


@pytest.mark.parametrize(
    "reply, words",
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "web server"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + b"x" * 100, "resume"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100, "resume"),
        (b"", "offline"),
    ],
    ids=["not-http", "chunked-cut", "short-body", "hang-up"],
)
def test_broken_servers_give_download_errors(tmp_path, reply, words):
    url = f"http://127.0.0.1:{one_reply_server(reply)}/data.bin"
    with pytest.raises(DownloadError, match=words):
        download_file(url, tmp_path / "data.bin", timeout=5)
    assert not (tmp_path / "data.bin").exists()


# -- unpacking ------------------------------------------------------------------------------


def test_extract_archive_unpacks(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(tar_gz({"images/x.jpg": b"x", "annotations/trimaps/x.png": b"y"}))
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "images" / "x.jpg").read_bytes() == b"x"
    assert (tmp_path / "out" / "annotations" / "trimaps" / "x.png").read_bytes() == b"y"


@pytest.mark.parametrize("evil", ["../evil.txt", "images/../../evil.txt"])
def test_extract_archive_refuses_members_outside_the_folder(tmp_path, evil):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(tar_gz({"images/fine.jpg": b"ok", evil: b"pwned"}))
    out = tmp_path / "sub" / "out"
    with pytest.raises(DownloadError, match="evil.tar.gz"):
        extract_archive(archive, out)
    assert [p for p in tmp_path.rglob("*") if p.is_file() and "evil" in p.name] == [archive]


def test_extract_archive_keeps_absolute_members_inside_the_folder(tmp_path):
    target = tmp_path / "absolute-evil.txt"
    archive = tmp_path / "abs.tar.gz"
    archive.write_bytes(tar_gz({str(target): b"pwned"}))
    out = tmp_path / "out"
    extract_archive(archive, out)
    assert not target.exists()
    assert (out / str(target).lstrip("/")).read_bytes() == b"pwned"


def test_extract_archive_refuses_links_outside_the_folder(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("images/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "../../outside"
        tar.addfile(link)
    (tmp_path / "l.tar.gz").write_bytes(buffer.getvalue())
    with pytest.raises(DownloadError):
        extract_archive(tmp_path / "l.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out" / "images" / "escape").is_symlink()


def test_extract_archive_refuses_damaged_archives(tmp_path):
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(tar_gz({"images/x.jpg": b"x" * 5000})[:40])
    with pytest.raises(DownloadError, match="bad.tar.gz"):
        extract_archive(archive, tmp_path / "out")


# -- Oxford-IIIT Pets -----------------------------------------------------------------------


def pets_archives() -> dict[str, bytes]:
    files = pet_files()
    return {
        "images.tar.gz": tar_gz({k: v for k, v in files.items() if k.startswith("images/")}),
        "annotations.tar.gz": tar_gz({k: v for k, v in files.items() if k.startswith("annotations/")}),
    }


def test_download_oxford_pets_then_open_it(tmp_path):
    archives = pets_archives()
    checksums = {name: hashlib.md5(data).hexdigest() for name, data in archives.items()}
    seen: dict[str, list[DownloadProgress]] = {}
    with FileServer(archives) as server:
        server.cut_after = 500  # the first archive stops once and is resumed by a second call
        with pytest.raises(DownloadError):
            download_oxford_pets(tmp_path, base_url=server.url + "/", checksums=checksums, timeout=5)
        root = download_oxford_pets(tmp_path, base_url=server.url, checksums=checksums, timeout=5,
                                    progress=lambda name, p: seen.setdefault(name, []).append(p))
        assert any(header == "bytes=500-" for _, header in server.requests)
        assert root == tmp_path
        assert sorted(seen) == sorted(archives)
        for name, updates in seen.items():
            assert updates[-1].done == updates[-1].total == len(archives[name])
        ds = open_dataset("oxford_pets", root)
        assert ds.class_names == ["cat", "dog"]
        assert sum(ds.count(s) for s in ("train", "validation", "test")) == len(PET_NAMES)
        sample = ds.samples("train", count=1)[0]
        assert sample.mask is not None and sample.mask.shape == sample.image.shape[:2]
        # A second call re-checks the archives and fetches and unpacks nothing.
        before = len(server.requests)
        (root / "images" / "pug_1.jpg").unlink()
        download_oxford_pets(tmp_path, base_url=server.url, checksums=checksums, timeout=5)
        assert len(server.requests) == before
        assert not (root / "images" / "pug_1.jpg").exists()


def test_download_oxford_pets_without_checksums(tmp_path):
    archives = pets_archives()
    with FileServer(archives) as server:
        root = download_oxford_pets(tmp_path, base_url=server.url, checksums=dict.fromkeys(archives), timeout=5)
    assert open_dataset("oxford_pets", root).class_names == ["cat", "dog"]


def test_download_oxford_pets_refuses_a_corrupt_archive(tmp_path):
    archives = pets_archives()
    checksums = {name: "f" * 32 for name in archives}
    with FileServer(archives) as server, pytest.raises(DownloadError, match="corrupt"):
        download_oxford_pets(tmp_path, base_url=server.url, checksums=checksums, timeout=5)
    assert not (tmp_path / "images").exists()


def test_download_oxford_pets_offline(tmp_path):
    with pytest.raises(DownloadError, match="offline"):
        download_oxford_pets(tmp_path, base_url=f"http://127.0.0.1:{closed_port()}", timeout=5)
