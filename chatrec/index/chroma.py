"""Everything that speaks Chroma: clients (on disk or a server), our embedding function, and the
translation of constraints into a ``where`` clause.

Chroma is imported here and only here, lazily, so importing ``chatrec.index`` stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from chatrec.catalog.constraints import Constraints
from chatrec.catalog.normalize import label_key
from chatrec.errors import ConfigError, VectorIndexError
from chatrec.index.embedder import MINILM_NAME, Embedder, any_loaded_embedder, default_embedder, embed_query

logger = logging.getLogger(__name__)

def chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def persistent_client(path: Path) -> Any:
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chroma_settings())


def http_client(url: str, token: str | None = None) -> Any:
    """A client for a Chroma server at ``url`` (``http://host:port``; https when the scheme is).
    ``token`` goes out as ``Authorization: Bearer`` on every request, for the authenticating
    proxy a server reached over a network must sit behind (docs/security.md)."""
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise ConfigError(f"CHATREC_CHROMA_URL={url!r} is not a URL like http://localhost:8000")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, headers=headers,
                                   settings=chroma_settings())
    except Exception as exc:
        raise VectorIndexError(f"cannot reach the Chroma server at {url} ({exc}); start it or "
                               "unset CHATREC_CHROMA_URL to use the index on disk") from exc


def release_persistent(path: Path, client: Any | None = None) -> None:
    """Stop Chroma's shared system for ``path``, so the folder can be swapped or deleted and a
    later client reads it afresh (Chroma caches one system per folder and process)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    if client is not None:
        try:
            client.close()
        except Exception:  # closing is best effort: the folder is going away
            logger.debug("closing Chroma client failed", exc_info=True)
    key = str(path)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        try:
            system.stop()
        except Exception:
            logger.debug("stopping Chroma system failed", exc_info=True)


def _embedding_function_base() -> type:
    from chromadb.api.types import EmbeddingFunction

    return EmbeddingFunction


class ChromaEmbedding(_embedding_function_base()):  # type: ignore[misc]
    """Chroma's ``EmbeddingFunction`` over a chatrec ``Embedder``.

    Passed on every ``create_collection`` *and* ``get_collection``: reopening a collection
    without it would silently attach Chroma's default function, which needs the internet.
    """

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
        return list(self.embedder.embed(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return [embed_query(self.embedder, text) for text in input]

    @staticmethod
    def name() -> str:
        return "chatrec"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.embedder.name, "dim": self.embedder.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        # Only reached when some code reopens a collection without passing ours.
        if config.get("model", MINILM_NAME) != MINILM_NAME:
            raise ConfigError(f"collection embedded with unknown model {config.get('model')!r}")
        return ChromaEmbedding(any_loaded_embedder() or default_embedder())


def _register() -> None:
    from chromadb.utils.embedding_functions import register_embedding_function

    try:
        register_embedding_function(ChromaEmbedding)
    except ValueError:  # already registered (module reloaded)
        logger.debug("chatrec embedding function already registered")


_register()


def where_clause(constraints: Constraints | None) -> dict[str, Any] | None:
    """The Chroma ``where`` for ``constraints``' clauses (``Constraints.clauses``).

    Excluded ids are left out (the caller asks for more results and drops them: a long ``$nin``
    is slower than over-fetching). Labels go through ``label_key`` exactly as the metadata did,
    so "Sci-Fi" and "sci-fi" meet. The caller re-checks every hit with ``matches``, which is what
    makes the clauses the metadata cannot express exact: a person in a role is asked of
    ``people`` (any role, a superset) and excluded keywords are left to the re-check.
    """
    if constraints is None:
        return None
    parts: list[dict[str, Any]] = []
    for clause in constraints.clauses():
        if clause.attribute == "id":
            continue
        if clause.op == "outside":
            parts.append({"$or": [{"year": {"$lt": int(clause.low or 0)}},
                                  {"year": {"$gt": int(clause.high or 0)}}]})
            continue
        if clause.attribute == "keywords":
            continue
        attribute = "people" if clause.attribute in ("directors", "cast", "writers") else clause.attribute
        if clause.op == "range":
            if clause.low is not None:
                parts.append({"year": {"$gte": int(clause.low)}})
            if clause.high is not None:
                parts.append({"year": {"$lte": int(clause.high)}})
            if clause.low is None or clause.low <= 0:
                parts.append({"year": {"$gt": 0}})  # 0 is "unknown year", which a bound excludes
            continue
        keys = list(dict.fromkeys(label_key(v) for v in clause.values))
        if clause.op == "none":
            parts += [{attribute: {"$not_contains": key}} for key in keys]
        else:
            options = [{attribute: {"$contains": key}} for key in keys]
            parts.append(options[0] if len(options) == 1 else {"$or": options})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}
