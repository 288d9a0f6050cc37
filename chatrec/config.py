"""Configuration: one pydantic-settings model, env vars prefixed ``CHATREC_``, ``.env`` honoured.

Everything chatrec writes lives under ``Settings.home`` so that several instances and test runs
never collide: point ``CHATREC_HOME`` somewhere else and you get a fresh, independent install.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Third-party libraries phone home or reach for a model hub unless told not to. chatrec runs
# offline by design, so these switches are set as soon as chatrec is imported (setdefault: a user
# who really wants otherwise can still say so in the environment).
_OFFLINE_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_switches() -> None:
    for key, value in _OFFLINE_SWITCHES.items():
        os.environ.setdefault(key, value)


apply_offline_switches()


def default_home() -> Path:
    return Path(platformdirs.user_cache_dir("chatrec", appauthor=False))


class Settings(BaseSettings):
    """chatrec's settings. Each field reads ``CHATREC_<FIELD>`` from the environment or ``.env``."""

    model_config = SettingsConfigDict(env_prefix="CHATREC_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Where chatrec keeps all its state.")
    data_dir: Path | None = Field(
        default=None,
        description="A local copy of the public data (layout of shared/data). Unset: download.",
    )
    catalog: str = Field(default="movielens", description="movielens, redial, or a JSONL/CSV path.")
    columnar_min_items: int = Field(
        default=50_000, ge=1,
        description="a custom catalog of at least this many items is kept as memory-mapped columns "
                    "(chatrec.catalog.columnar) instead of Python objects in every worker")

    # LLM (optional)
    llm: str | None = Field(default=None, description="none | openai:<model> | <model> with llm_base_url")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = 20.0
    llm_max_retries: int = 1
    llm_tasks: str = Field(default="understand,rerank,phrase",
                           description="comma-separated LLM tasks: understand, rerank, phrase")
    llm_max_calls: int = Field(default=2, ge=0, description="LLM calls per turn")
    llm_max_prompt_tokens: int = Field(default=2500, ge=0, description="prompt tokens per turn")
    llm_turn_deadline: float = Field(default=15.0, gt=0, description="seconds of LLM work per turn")

    # retrieval
    chroma_url: str | None = Field(default=None, description="Use a Chroma server instead of disk.")
    chroma_token: SecretStr | None = Field(
        default=None,
        description="Sent as 'Authorization: Bearer <token>' to the Chroma server (its authenticating proxy).")
    embed_threads: int = Field(default=1, ge=1,
                               description="threads inside one embedding call (1 is steadier on 2 busy cores)")
    embed_workers: int = Field(default=0, ge=0,
                               description="batches embedded at once when building an index (0: one per CPU core)")
    embed_batch_size: int = Field(default=64, ge=1)
    embed_precision: Literal["auto", "bf16", "fp32"] = Field(
        default="auto",
        description="document embedding in index builds: bf16 (torch, needs a CPU with native bfloat16: "
                    "AMX or AVX512-BF16), fp32 (ONNX), auto (bf16 where native). Queries are always fp32.")

    # sessions and profiles
    store_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:pass@host:port/db for a shared store; unset: SQLite under home.")

    log_level: str = "WARNING"

    @field_validator("home", "data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("store_url", mode="after")
    @classmethod
    def _blank_means_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("llm", mode="after")
    @classmethod
    def _none_means_off(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in {"", "none", "off", "false", "0"}:
            return None
        return value.strip()

    # ---- derived locations (one place, so no module invents its own) ----
    @property
    def downloads_dir(self) -> Path:
        return self.home / "data"

    @property
    def cache_dir(self) -> Path:
        """Derived artefacts: parsed catalogs, KG, collaborative matrices."""
        return self.home / "cache"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def store_path(self) -> Path:
        return self.home / "chatrec.sqlite3"

    @property
    def llm_cache_dir(self) -> Path:
        return self.home / "llm-cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call ``get_settings.cache_clear()``."""
    return Settings()
