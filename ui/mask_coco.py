"""The Mask studio's COCO interop: import a real annotated set (a zip, or pictures and a COCO
instances JSON) into a user mask dataset, and download a dataset as COCO instances.

The work is :class:`cv_core.datasets.UserMaskStore`'s (``import_zip``, ``import_coco``,
``export_zip``: see :mod:`cv_core.datasets.user_masks.coco`); this module is the widgets and
the messages. Session-state keys start with ``mask_studio_coco_``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

import streamlit as st

from cv_core.datasets import DatasetError, UserMaskStore
from cv_core.i18n import N_, _, ngettext
from ui.mask_studio import studio_flash, studio_key

OVERLAP = {"refuse": N_("Refuse the picture"), "later_in_front": N_("The later annotation in front")}
ENCODINGS = {"rle": N_("RLE (exact)"), "polygon": N_("Outlines as polygons")}
PICTURE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


def _key(name: str) -> str:
    return studio_key(f"coco_{name}")


def _import(store: UserMaskStore) -> None:
    target = (st.session_state.get(_key("target")) or "").strip()
    uploads = st.session_state.get(_key("files")) or []
    overlap = st.session_state.get(_key("overlap")) or "refuse"
    skip_bad = bool(st.session_state.get(_key("skip_bad")))
    zips = [u for u in uploads if u.name.lower().endswith(".zip")]
    jsons = [u for u in uploads if u.name.lower().endswith(".json")]
    pictures = [u for u in uploads if u not in zips and u not in jsons]
    st.session_state.pop(_key("report"), None)
    if not target:
        studio_flash("error", _("Nothing was imported: type the dataset to import into (a new name, or one of "
                                "yours with the same classes)."))
        return
    try:
        if zips:
            if len(zips) > 1 or jsons or pictures:
                raise DatasetError(_("Give one zip, or pictures and one COCO JSON file, not both."))
            report = store.import_zip(target, zips[0].getvalue(), overlap=overlap, skip_bad=skip_bad)
        else:
            if len(jsons) != 1:
                raise DatasetError(_("Give one COCO instances JSON file with the pictures (found {n}).").format(
                    n=len(jsons)))
            if not pictures:
                raise DatasetError(_("Give the pictures the COCO file names, with it."))
            with tempfile.TemporaryDirectory(prefix="mask-coco-") as folder:
                for upload in pictures:
                    name = PurePosixPath(upload.name).name
                    if name.startswith("."):
                        continue
                    Path(folder, name).write_bytes(upload.getvalue())
                report = store.import_coco(target, jsons[0].getvalue(), folder, overlap=overlap, skip_bad=skip_bad)
    except DatasetError as exc:
        studio_flash("error", _("Nothing was imported. {reason}").format(reason=exc))
        return
    except OSError as exc:
        studio_flash("error", _("The import stopped: the disk refused ({reason}). The pictures saved before it "
                                "are whole.").format(reason=exc.strerror or exc))
        return
    st.session_state[studio_key("dataset")] = target
    st.session_state[_key("report")] = {"skipped": report.skipped, "overlaps": report.overlaps,
                                        "shrunk": report.shrunk, "dataset": target}
    pictures_text = ngettext("{n} picture", "{n} pictures", len(report.items)).format(n=len(report.items))
    objects_text = ngettext("{n} object", "{n} objects", report.objects).format(n=report.objects)
    if report.created:
        text = _("Imported {pictures} with {objects} into the new dataset **{name}**.")
    else:
        text = _("Imported {pictures} with {objects} into **{name}**.")
    studio_flash("success", text.format(pictures=pictures_text, objects=objects_text, name=target), target)


def coco_import(store: UserMaskStore) -> None:
    """Import a COCO instance set: one zip, or the pictures and their JSON file."""
    st.markdown(_("**Import** a set you annotated elsewhere: a zip holding the pictures and one COCO instances "
                  "JSON (CVAT, Label Studio, COCO itself), or the pictures and the JSON file together. Each "
                  "picture is saved with its class mask and its instance map."))
    # The uploader appears on demand: the page's picture uploader stays the only one otherwise.
    if not st.toggle(_("Import a COCO set"), key=_key("open")):
        return
    st.file_uploader(_("COCO zip, or pictures and a COCO JSON"), type=["zip", "json", *PICTURE_TYPES],
                     accept_multiple_files=True, key=_key("files"),
                     help=_("The JSON's file names are looked up beside it, in an images/ folder, or by name."))
    st.text_input(_("Into the dataset"), key=_key("target"), max_chars=64,
                  placeholder=_("a new name, or one of yours with the file's classes"))
    st.radio(_("Objects that overlap"), list(OVERLAP), format_func=lambda k: _(OVERLAP[k]), key=_key("overlap"),
             horizontal=True,
             help=_("COCO lets two objects claim one pixel; an instance map gives each pixel to one object. Refuse "
                    "such pictures, or let the later annotation in the file take the shared pixels."))
    st.checkbox(_("Import the pictures that can be, and list the others"), key=_key("skip_bad"),
                help=_("Otherwise one unusable picture stops the import and nothing is written."))
    st.button(_("Import"), icon=":material/upload_file:", key=_key("import"), on_click=_import, args=(store,))
    report = st.session_state.get(_key("report"))
    if report and report["dataset"] == st.session_state.get(studio_key("dataset")):
        for line in report["overlaps"]:
            st.caption(":material/layers: " + line)
        if report["shrunk"]:
            st.caption(_(":material/photo_size_select_large: Stored smaller (long side over 1,024 px): {names}").format(
                names=", ".join(report["shrunk"][:10])))
        if report["skipped"]:
            st.warning(_("Left out:") + "\n\n" + "\n\n".join(f"- {line}" for line in report["skipped"][:20]),
                       icon=":material/warning:")


@st.cache_data(max_entries=4, show_spinner=False)
def _export(root: str, name: str, encoding: str, version: tuple) -> bytes:
    return UserMaskStore(root).export_zip(name, encoding=encoding)


def _version(store: UserMaskStore, info: dict) -> tuple:
    """Changes whenever an item is saved, replaced or deleted (the folders' times)."""
    stamps = []
    for sub in ("masks", "instances", "images"):
        try:
            stamps.append((store.root / info["name"] / sub).stat().st_mtime_ns)
        except OSError:
            stamps.append(None)
    return (info.get("updated"), info["items"], *stamps)


def coco_export(store: UserMaskStore, info: dict) -> None:
    """Download the dataset as a zip of its pictures and a COCO instances JSON."""
    if not info["items"]:
        st.caption(_("Save masks into {name} to download it as COCO instances.").format(name=info["name"]))
        return
    st.markdown(_("**Export** {name} as a zip: its pictures and an instances JSON that COCO tools and "
                  "pycocotools read (one annotation per object; a mask saved without objects gives one per "
                  "connected region).").format(name=info["name"]))
    encoding = st.selectbox(_("Masks as"), list(ENCODINGS), format_func=lambda k: _(ENCODINGS[k]),
                            key=_key("encoding"), bind="query-params",
                            help=_("RLE keeps every pixel (imports back exactly); polygons are outlines that "
                                   "other tools draw, without holes.")) or "rle"
    try:
        data = _export(str(store.root), info["name"], encoding, _version(store, info))
    except (DatasetError, OSError) as exc:
        st.error(_("The dataset cannot be packed. {reason}").format(reason=exc), icon=":material/error:")
        return
    st.download_button(_("Download COCO zip"), data, file_name=f"{info['name']}-coco-instances.zip",
                       mime="application/zip", icon=":material/download:", key=_key("export"))


def coco_panel(store: UserMaskStore, info: dict | None) -> None:
    """Import on the left, export of the chosen dataset on the right."""
    cols = st.columns(2, gap="large")
    with cols[0]:
        coco_import(store)
    with cols[1]:
        if info is None:
            st.caption(_("Choose a dataset to download it as COCO instances."))
        else:
            coco_export(store, info)
