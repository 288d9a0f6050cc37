"""Knowledge augmentations on disk: LLM-made item and user summaries, per catalog and model.

``chatrec augment`` writes them; the vector index reads the item summaries into the embedded
document of each item (``document_text(item, summary)``), so a build, an ``open`` + ``sync`` or a
rebuild all embed the same augmented text. User summaries are there for the reranker's profile.

Layout under ``Settings.home``::

    augment/<catalog>/active.json              which model's summaries the index uses
    augment/<catalog>/<model>/items.json       {"items": {item_id: summary}, ...}
    augment/<catalog>/<model>/users.json       {"users": {user_id: summary}, ...}

(user ids are the interaction log's: "42" for "ml:42")

Summaries are retrieval aids only: they are never shown to users (explanations come from
knowledge-graph edges), and nothing here is stored in the Chroma collection itself.

This module imports no LLM code: the index reads it on every open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatrec.catalog.atomic import atomic_write
from chatrec.config import Settings

logger = logging.getLogger(__name__)

ACTIVE = "active.json"
ITEMS = "items.json"
USERS = "users.json"


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80]
    return cleaned or "x"


def catalog_dir(settings: Settings, catalog_name: str) -> Path:
    return settings.home / "augment" / _safe(catalog_name)


def model_dir(settings: Settings, catalog_name: str, model_id: str) -> Path:
    return catalog_dir(settings, catalog_name) / _safe(model_id)


def _read(path: Path, key: str) -> dict[str, str]:
    """The ``key`` mapping of a JSON file, or {} (missing or unreadable: no augmentation is
    better than a failed index open)."""
    if not path.is_file():
        return {}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        mapping = payload.get(key) if isinstance(payload, dict) else None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable augmentation file %s (%s)", path, exc)
        return {}
    if not isinstance(mapping, dict):
        return {}
    return {str(k): v.strip() for k, v in mapping.items() if isinstance(v, str) and v.strip()}


def _write(path: Path, payload: dict[str, Any]) -> None:
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=0, sort_keys=True)


@dataclass
class Augmentations:
    """The summaries of one catalog made by one model.

    Attributes:
        catalog: the catalog's name.
        model: the model id (None: no augmentation).
        items: item id → summary (embedded with the item's document).
        users: interaction-log user id ("42" for "ml:42") → taste summary.
    """

    catalog: str
    model: str | None = None
    items: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """A hash of the item summaries ("" for none): the index records it and ``sync``
        re-embeds when it changes."""
        if not self.items:
            return ""
        payload = json.dumps(sorted(self.items.items()), ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def load(cls, settings: Settings, catalog_name: str, model: str | None = None
             ) -> Augmentations:
        """The augmentations of ``model`` (default: the active model, the last one
        ``chatrec augment`` ran with), or empty ones."""
        if model is None:
            active = catalog_dir(settings, catalog_name) / ACTIVE
            try:
                model = json.loads(active.read_text(encoding="utf-8")).get("model") \
                    if active.is_file() else None
            except (OSError, ValueError, AttributeError) as exc:
                logger.warning("ignoring unreadable %s (%s)", active, exc)
                model = None
        if not model:
            return cls(catalog_name)
        folder = model_dir(settings, catalog_name, model)
        return cls(catalog_name, model, _read(folder / ITEMS, "items"),
                   _read(folder / USERS, "users"))

    def save(self, settings: Settings, activate: bool = True) -> Path:
        """Write both mappings atomically (and make this model the active one); returns the
        model's folder."""
        if not self.model:
            raise ValueError("augmentations without a model cannot be saved")
        folder = model_dir(settings, self.catalog, self.model)
        meta = {"catalog": self.catalog, "model": self.model, "updated_at": time.time()}
        _write(folder / ITEMS, {**meta, "items": self.items})
        _write(folder / USERS, {**meta, "users": self.users})
        if activate:
            _write(catalog_dir(settings, self.catalog) / ACTIVE, meta)
        return folder


def user_summary(settings: Settings, catalog_name: str, user_id: str,
                 model: str | None = None) -> str | None:
    """The stored taste summary of an interaction-log user ("42" or "ml:42"), or None. For the
    reranker's profile text (a prompt), never for display."""
    raw = user_id[3:] if user_id.startswith("ml:") else user_id
    return Augmentations.load(settings, catalog_name, model).users.get(raw)


__all__ = ["Augmentations", "catalog_dir", "model_dir", "user_summary"]
