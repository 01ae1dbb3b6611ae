"""Switching publications atomically, keeping the previous one beside it.

The layout, for ``BULLETIN_PUBLISH_DIR=published``::

    published -> published.d/20241014T083512Z-3fa2b1c04d5e     (a symlink)
    published.d/
        20241014T083512Z-3fa2b1c04d5e/    the current publication
            bulletin.xlsx, …, manifest.json
            previous -> ../20241013T071002Z-9be01c22a7f0
        20241013T071002Z-9be01c22a7f0/    the one before: still complete, to compare
        20241012T…/                       one more; older ones are removed

A version folder is named by when it was published (UTC) and the first 12 hex digits of a
digest of its files' names and SHA-256s (:func:`files.content_digest`), so two publications
with the same content show the same suffix.

A run writes everything into ``published.d/.staging-<run id>/``; only when every file is
written, synced and checked against the manifest is the folder renamed to its version name
(:func:`seal`, which also links ``previous`` to the publication then current) and
``published`` switched to it: a new symlink beside it, renamed over it (:func:`activate`,
one ``rename(2)``, atomic). Until that rename readers see the previous publication, byte for
byte; a failure before it removes the staging folder, and a killed run's leftover is removed
by the next publication (:func:`prune`). A ``published`` that is a real folder (from before
versioning) is first moved into ``published.d/`` as ``<its time>-legacy``.

Publications are written while the run holds the warehouse lock, so two never overlap.

Other products (a run with ``BULLETIN_HS_CODE=847180``) are published the same way, each
under a link of its own beside the store, and reached through ``published/<hs code>/``::

    published.products/
        847180 -> 847180.d/20241115T020304Z-77c0d1e2f3a4   (the product's ``published``)
        847180.d/
            20241115T020304Z-77c0d1e2f3a4/   bulletin.xlsx, …, previous -> ../…
    published.d/20241014T083512Z-3fa2b1c04d5e/
        847180 -> ../../published.products/847180          (a relative link)

A product's run stages, seals, activates and prunes under its own link
(:func:`product_target`), never writing the default product's files. Every default version
folder carries a link ``<hs code>`` to each product's own link (:func:`seal` adds them), so a
later default publication keeps ``published/847180/`` and the switch of a product is seen
through every default version at once. A product published for the first time adds its link
to the current default version (:func:`link_product`, a new link renamed into place); before
any default publication it makes one holding only the links (named ``<time>-links``).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ..durable import fsync_dir

STORE_SUFFIX = ".d"
STAGING_PREFIX = ".staging-"
PREVIOUS = "previous"
PRODUCTS_SUFFIX = ".products"
LINKS_ONLY = "links"
KEEP = 3


def store_dir(target: Path) -> Path:
    """The folder of versions beside the published link: ``published.d``."""
    return target.with_name(target.name + STORE_SUFFIX)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _linked_version(link: Path, store: Path) -> Path | None:
    """The version folder in ``store`` a link points at (by name: no path resolution)."""
    if not link.is_symlink():
        return None
    version = store / Path(os.readlink(link)).name
    return version if version.is_dir() else None


def current_version(target: Path) -> Path | None:
    """The version folder ``published`` points at (None before the first publication)."""
    return _linked_version(target, store_dir(target))


def current_publication(target: Path) -> Path | None:
    """What readers see at ``target`` now: its version folder, or a real folder from before
    versioning (None before the first publication)."""
    if target.is_symlink():
        return current_version(target)
    return target if target.is_dir() else None


def products_dir(target: Path) -> Path:
    """The folder of the other products' publications beside ``published``: ``published.products``."""
    return target.with_name(target.name + PRODUCTS_SUFFIX)


def product_target(target: Path, hs_code: str) -> Path:
    """The link a product's publication is switched at: ``published.products/<hs code>``."""
    return products_dir(target) / hs_code


def product_links(target: Path) -> dict[str, Path]:
    """The products published beside ``target``: hs code -> the product's link."""
    folder = products_dir(target)
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_symlink() and not p.name.startswith(".")}


def _link_products(version: Path, target: Path) -> None:
    """A link ``<hs code>`` in a version folder to each product's link."""
    for hs_code, link in product_links(target).items():
        os.symlink(os.path.relpath(link, version), version / hs_code)


def link_product(target: Path, hs_code: str, now: datetime | None = None) -> Path:
    """Make ``published/<hs code>`` lead to the product's publication; returns the default
    version folder that holds the link. The default product's files are not touched."""
    _adopt_legacy(target)
    current = current_version(target)
    if current is None:
        # nothing published for the default product yet: a version of links only
        version = seal(new_staging(target, f"{LINKS_ONLY}-{os.getpid()}"), target, LINKS_ONLY, now)
        activate(target, version)
        return version
    link = current / hs_code
    relative = os.path.relpath(product_target(target, hs_code), current)
    if link.is_symlink() and os.readlink(link) == relative:
        return current
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a link; move it away")
    temporary = current / f".{hs_code}.link-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(relative, temporary)
    os.replace(temporary, link)
    fsync_dir(current)
    return current


def is_links_only(version: Path) -> bool:
    """A version folder holding links only (made by :func:`link_product`): no publication."""
    return not any(p.is_file() and not p.is_symlink() for p in version.iterdir())


def new_staging(target: Path, token: str) -> Path:
    """An empty folder to write a publication into, inside the store (same filesystem)."""
    store = store_dir(target)
    store.mkdir(parents=True, exist_ok=True)
    staging = store / f"{STAGING_PREFIX}{token}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def seal(staging: Path, target: Path, digest: str, now: datetime | None = None) -> Path:
    """Give a complete staging folder its version name, linking ``previous`` to the current
    publication and ``<hs code>`` to each other product's. Nothing a reader sees changes yet."""
    _adopt_legacy(target)
    store = store_dir(target)
    current = current_version(target)
    if current is not None:
        os.symlink(os.path.join("..", current.name), staging / PREVIOUS)
    _link_products(staging, target)
    fsync_dir(staging)
    base = f"{_stamp(now or datetime.now(UTC))}-{digest[:12]}"
    version, n = store / base, 1
    while version.exists():
        n += 1
        version = store / f"{base}-{n}"
    os.rename(staging, version)
    fsync_dir(store)
    return version


def activate(target: Path, version: Path) -> None:
    """Point ``published`` at ``version``: a new link renamed over the old one (atomic)."""
    _adopt_legacy(target)
    link = target.with_name(f".{target.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(version, target.parent), link)
    os.replace(link, target)
    fsync_dir(target.parent)


def _adopt_legacy(target: Path) -> None:
    """Move a ``published`` that is a real folder into the store, as a version of its own."""
    if target.is_symlink() or not target.exists():
        return
    if not target.is_dir():
        raise FileExistsError(f"{target} exists and is neither a folder nor a link; move it away")
    store = store_dir(target)
    store.mkdir(parents=True, exist_ok=True)
    moment = datetime.fromtimestamp(target.stat().st_mtime, UTC)
    legacy = store / f"{_stamp(moment)}-legacy"
    os.rename(target, legacy)
    os.symlink(os.path.relpath(legacy, target.parent), target)


def versions(target: Path) -> list[Path]:
    """The version folders, oldest first (their names start with the time of publication)."""
    store = store_dir(target)
    if not store.is_dir():
        return []
    return sorted(
        p for p in store.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )


def prune(target: Path, keep: int = KEEP) -> list[Path]:
    """Remove versions beyond the ``keep`` newest (never the current one or its previous) and
    staging leftovers of killed runs; returns what was removed."""
    store = store_dir(target)
    if not store.is_dir():
        return []
    current = current_version(target)
    previous = _linked_version(current / PREVIOUS, store) if current else None
    protected = {v for v in (current, previous) if v is not None}
    all_versions = versions(target)
    kept = set(all_versions[-keep:]) | protected
    removed = []
    for path in store.iterdir():
        if path.name.startswith(STAGING_PREFIX) or (path in all_versions and path not in kept):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    for link in target.parent.glob(f".{target.name}.link-*"):
        if link.is_symlink():
            link.unlink()
            removed.append(link)
    # a kept version whose previous was removed keeps no dangling link
    for version in kept:
        link = version / PREVIOUS
        if link.is_symlink() and not link.exists():
            link.unlink()
    return sorted(removed)
