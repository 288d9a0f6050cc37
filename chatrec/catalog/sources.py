"""The public data chatrec uses, pinned: every file, where it lives in the data layout, the URL it
is downloaded from (a GroupLens zip or a GitHub file at a fixed commit) and its sha256.

The layout is that of ``shared/data`` (``movielens/ml-latest-small/ratings.csv``, ...), both in a
``CHATREC_DATA_DIR`` a user points at and in the download cache under ``CHATREC_HOME``. The
checksums are those of ``shared/data/SHA256SUMS``; for MovieLens they are the CSVs' checksums after
unzipping, since GroupLens only serves the zip.

``redial/redial_to_movielens.csv`` is *derived*: it is regenerated from its inputs at build time
(``chatrec.catalog.redial_map``) and never downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Host = Literal["grouplens", "github"]

#: Default base URL of each host. Override with ``CHATREC_GROUPLENS_URL`` / ``CHATREC_GITHUB_RAW_URL``
#: (a mirror, or a loopback server in tests) or the ``base_urls`` argument of ``ensure_data``.
DEFAULT_BASE_URLS: dict[str, str] = {
    "grouplens": "https://files.grouplens.org/datasets/movielens",
    "github": "https://raw.githubusercontent.com",
}
BASE_URL_ENV = {"grouplens": "CHATREC_GROUPLENS_URL", "github": "CHATREC_GITHUB_RAW_URL"}


class DataFile(BaseModel):
    """One pinned public file.

    Attributes:
        path: where it lives in the data layout ("movielens/ml-latest-small/ratings.csv").
        sha256: the pinned checksum of the file itself (for a zip member: after unzipping).
        host: "grouplens" or "github" (selects the base URL).
        remote: the path below the host's base URL ("ml-latest-small.zip",
            "owner/repo/<commit>/data/file.json").
        member: for a file inside a zip archive, its name in the archive; else ``None``.
        license: the licence the file is distributed under.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    host: Host
    remote: str
    member: str | None = None
    license: str

    @property
    def origin(self) -> str:
        """Short provenance: "grouplens ml-latest-small.zip", "github RUCAIBox/iEvaLM-CRS@162e2f4"."""
        if self.host == "github":
            owner, repo, commit = self.remote.split("/", 3)[:3]
            return f"github {owner}/{repo}@{commit[:7]}"
        return f"{self.host} {self.remote}"

    def url(self, base_urls: Mapping[str, str] | None = None) -> str:
        """The download URL (of the archive, for a zip member)."""
        bases = resolve_base_urls(base_urls)
        return f"{bases[self.host].rstrip('/')}/{self.remote}"


class DerivedFile(BaseModel):
    """A table chatrec computes from other files at build time; never downloaded.

    Attributes:
        path: where it lives in the data layout.
        inputs: the data-layout paths it is computed from.
        description: what it holds.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    inputs: tuple[str, ...]
    description: str


# ---- pins (see shared/data/README.md) ----
_ML_ZIP = "ml-latest-small.zip"
_ML_LICENSE = "GroupLens research licence (non-commercial; cite Harper & Konstan 2015)"
_IEVALM = "RUCAIBox/iEvaLM-CRS/162e2f442fb0799550af587dce0285a2d5ca897f"
_USERSIM = "iai-group/UserSimCRS/1e7d3391f8accad3789239fed7cb8676174ef75e"
_REDIAL_SITE = "ReDialData/website/849e9eb1bb60e312f8bf4daa82fc10a285e9318b"
_IARD = "wanlingcai1997/umap_2020_IARD/021d2a8f333dacb8a0e61096dbec23a899bbd784"
_LLMKB = "BitbanChou/LLMKB/d9250756a46e3cd46883cf49b192d1a63e539a17"


def _movielens(name: str, sha256: str) -> DataFile:
    return DataFile(path=f"movielens/ml-latest-small/{name}", sha256=sha256, host="grouplens",
                    remote=_ML_ZIP, member=f"ml-latest-small/{name}", license=_ML_LICENSE)


def _github(path: str, repo_at_commit: str, remote_path: str, sha256: str, license: str) -> DataFile:
    return DataFile(path=path, sha256=sha256, host="github",
                    remote=f"{repo_at_commit}/{remote_path}", license=license)


def _ievalm(name: str, sha256: str, remote_dir: str = "data/redial") -> DataFile:
    return _github(f"redial/ievalm/{name}", _IEVALM, f"{remote_dir}/{name}", sha256, "MIT")


def _dbpedia(name: str, sha256: str) -> DataFile:
    return _github(f"redial/dbpedia/{name}", _LLMKB, f"data/redial/{name}", sha256,
                   "CC BY-SA 3.0 (DBpedia)")


#: Every downloadable file, in the order ``chatrec data`` lists them.
FILES: tuple[DataFile, ...] = (
    _movielens("README.txt", "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404"),
    _movielens("links.csv", "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31"),
    _movielens("movies.csv", "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07"),
    _movielens("ratings.csv", "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"),
    _movielens("tags.csv", "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d"),
    _github("movielens/ml-25m-genome-keywords/movies_w_keywords.csv", _USERSIM,
            "data/item_collections/movielens-25m-sample/movies_w_keywords.csv",
            "4a5ff38db2ce719820b33ba95e77a9e3510c29eb139602775e45f38f238affea",
            "GroupLens terms (derived from ML-25M); repository Apache-2.0"),
    _ievalm("id2info.json", "7bdfe9a9c7f1b4d59aa9a5aeba0029071fd5a7232b61c8257212a335ffe424f7"),
    _ievalm("kg.json", "e3698d042926defb656b25873d4144d255aa914a575fcafa8af14cf434c867ff"),
    _ievalm("entity2id.json", "d530bd465e7a0edb19257d444d9665fda8271ec4d5aff235a417cad13848c52f"),
    _ievalm("entity2type.json", "e75311e2e1eb3b3560302268c964cb44aaf1467e6a4d186baf2267ad20ea984b"),
    _ievalm("relation2id.json", "028b39258502a41d81e7176f7d9f77b1b342c6a9dc42b5cf214309e590522027"),
    _ievalm("type2id.json", "5803838ef2749ca801f00f0a86aa345411f3b4b2321e70fb4c357470a5349f37"),
    _ievalm("item_ids.json", "73d1676353fff02ba6cb2cab093b2977579666a152621f1248d07791d7a3b0a6"),
    _github("redial/ievalm/LICENSE", _IEVALM, "LICENSE",
            "1c220af5782142dd4a05371b4d6504a4fa1fd3e1162e14d65f65bf7641308db4", "MIT"),
    _github("redial/dev/dialogues.jsonl", _IEVALM, "data/redial/valid_data.jsonl",
            "69b7cf81d0671c3dd0a1167df2e7e1e51ca76b3edce97022343d68f6974510a1",
            "CC BY 4.0 (ReDial) / MIT"),
    _github("redial/dev/turns_processed.jsonl", _IEVALM,
            "data/redial_eval/valid_data_processed.jsonl",
            "20f0672f83c2be2f1f6c43867ba0ab1c2c483ca221a360ddc58679294afa472f", "MIT"),
    _github("redial/original/movies_with_mentions.csv", _REDIAL_SITE, "movies_with_mentions.csv",
            "0d408daa474ac95b959a739a261dddd997dd800f5ea585da15a434a26187dbb0", "CC BY 4.0"),
    _github("redial/original/datasheet.md", _REDIAL_SITE, "docs/datasheet.md",
            "a033cc0a0aef4d8cc50a258f32faaaef5e16a8539539cfa0a770eb1d3ee55055", "CC BY 4.0"),
    _github("redial/iard/umap2020_IARD_Cai.json", _IARD, "umap2020_IARD_Cai.json",
            "aa7b9bad68765d80b653d716d124e561cc912437f23f9fa941e222361fb9883f", "MIT"),
    _github("redial/iard/LICENSE", _IARD, "LICENSE",
            "6ce7e10f4897573cf39bba21b53e37ac9a6572935807c6902970d17e6de7bee8", "MIT"),
    _dbpedia("dbpedia_subkg.json", "3e2c16d1780ce63316e79c5fab40e8f35f2750146de717ae4aed8d76d59bd781"),
    _dbpedia("entity2id.json", "63353aca481bc9558b502f91cb98f6fa26438796fdd7e0bc06b5a1532126e8b5"),
    _dbpedia("item_ids.json", "a36efa4ad81f487676e9861f25ec42166e72bfac6eab89500041b1c749ac1a08"),
    _dbpedia("relation2id.json", "43d6e261ec5a70bfac9db28aa8bd53f1140597816eb60d2c9be555a3381e2578"),
    _dbpedia("relation_set.json", "16784022a598fcdd57e792d052c37967aa390f41d563ceb77c84391a0e5864b0"),
)

REDIAL_TO_MOVIELENS = DerivedFile(
    path="redial/redial_to_movielens.csv",
    inputs=("redial/original/movies_with_mentions.csv", "redial/ievalm/id2info.json",
            "movielens/ml-latest-small/links.csv", "movielens/ml-latest-small/movies.csv"),
    description="ReDial movieId → imdb_id → ml-latest-small movieId, with a year check",
)
DERIVED: tuple[DerivedFile, ...] = (REDIAL_TO_MOVIELENS,)

FILES_BY_PATH: dict[str, DataFile] = {f.path: f for f in FILES}

# What each catalog loader reads (data-layout paths).
MOVIELENS_INPUTS: tuple[str, ...] = (
    "movielens/ml-latest-small/movies.csv", "movielens/ml-latest-small/links.csv",
    "movielens/ml-latest-small/ratings.csv", "movielens/ml-latest-small/tags.csv",
    "movielens/ml-25m-genome-keywords/movies_w_keywords.csv", "redial/ievalm/id2info.json",
    "redial/original/movies_with_mentions.csv",
)
REDIAL_INPUTS: tuple[str, ...] = MOVIELENS_INPUTS


def resolve_base_urls(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Base URL per host: explicit ``overrides`` beat the environment, which beats the defaults."""
    bases = dict(DEFAULT_BASE_URLS)
    for host, env in BASE_URL_ENV.items():
        if os.environ.get(env):
            bases[host] = os.environ[env]
    bases.update(overrides or {})
    return bases


def select(needed: Iterable[str] | None = None) -> list[DataFile]:
    """The pinned files named by ``needed``: data-layout paths, or folder prefixes such as
    ``"movielens/"`` or ``"redial/ievalm"``. ``None`` means every file. A derived file stands for
    its inputs. Unknown names raise ``KeyError`` (a typo should not silently fetch nothing)."""
    if needed is None:
        return list(FILES)
    wanted: set[str] = set()
    for name in needed:
        name = name.strip().lstrip("./")
        derived = next((d for d in DERIVED if d.path == name), None)
        if derived is not None:
            wanted.update(derived.inputs)
            continue
        prefix = name.rstrip("/") + "/"
        matches = [f.path for f in FILES if f.path == name or f.path.startswith(prefix)]
        if not matches:
            raise KeyError(f"no pinned data file or folder named {name!r}")
        wanted.update(matches)
    return [f for f in FILES if f.path in wanted]
