"""Custom JSONL/CSV catalogs: a dozen coffee products written by the tests, and broken variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.catalog import ItemFilter, load_catalog
from chatrec.catalog.custom import load_custom
from chatrec.errors import CatalogFormatError, ConfigError


def test_jsonl_catalog_with_interactions(coffee_jsonl):
    catalog = load_custom(coffee_jsonl)
    assert catalog.name == "coffee" and len(catalog) == 12
    aero = catalog["aero-1"]
    assert aero.title == "AeroPress Original" and aero.year == 2005 and aero.kind == "item"
    assert aero.genres == ["coffee maker", "immersion"]      # categories → genres
    assert aero.creators == ["AeroPress"]                      # brand → creators
    assert aero.keywords == ["portable", "single cup", "plastic"]  # features → keywords
    assert aero.external_ids == {"sku": "AP-100", "ean": "4012345678901"}
    # A parenthesis in a product title is part of the title (only movies are parsed).
    assert catalog["chemex-8"].title == "Chemex 8-Cup (Classic)"
    # Popularity and mean rating come from the interactions unless given.
    assert (aero.popularity, aero.mean_rating) == (3, 3.667)
    assert catalog["baratza-encore"].popularity == 40
    assert catalog["beans-ethiopia"].kind == "coffee"
    history = catalog.interactions.history("u1")
    assert list(history["item_id"]) == ["aero-1", "v60-02", "comandante-c40"]
    grinders = [i.id for i in catalog if ItemFilter(genres_any=["grinder"]).matches(i)]
    assert grinders == ["baratza-encore", "comandante-c40"]


def test_csv_gives_the_same_items_as_jsonl(coffee_jsonl, coffee_csv):
    from_jsonl = load_custom(coffee_jsonl)
    (coffee_csv.parent / "coffee.interactions.csv").unlink()  # compare the items alone
    from_csv = load_custom(coffee_csv)
    assert from_csv.interactions is None
    for item in from_csv:
        other = from_jsonl[item.id]
        fields = {"popularity", "mean_rating"}
        assert item.model_dump(exclude=fields) == other.model_dump(exclude=fields), item.id


def test_load_catalog_by_path_is_cached_and_tracks_changes(coffee_jsonl, tmp_path):
    from chatrec.config import get_settings

    first = load_catalog(str(coffee_jsonl))
    assert first.sources[str(coffee_jsonl.resolve())]
    assert str((coffee_jsonl.parent / "coffee.interactions.csv").resolve()) in first.sources
    assert list(get_settings().cache_dir.glob("catalogs/coffee-*.pkl"))
    assert [i.model_dump() for i in load_catalog(str(coffee_jsonl))] == [
        i.model_dump() for i in first]
    # Editing the file changes its checksum, so the cached catalog is not reused.
    with open(coffee_jsonl, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "mug", "title": "Enamel Mug"}) + "\n")
    assert len(load_catalog(str(coffee_jsonl))) == 13


def test_movie_kind_titles_are_parsed(tmp_path):
    path = tmp_path / "films.jsonl"
    path.write_text(json.dumps({"id": "m1", "title": "Matrix, The (1999)", "kind": "movie",
                                "genres": ["Sci-Fi"]}) + "\n")
    item = load_custom(path)["m1"]
    assert (item.title, item.year, item.genres) == ("The Matrix", 1999, ["sci-fi"])


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


GOOD = '{"id": "a", "title": "Kettle"}\n'


@pytest.mark.parametrize("name, content, where, words", [
    ("bad.jsonl", GOOD + '{"id": "b", "title": "Mug"\n', ":2:", "not valid JSON"),
    ("bad.jsonl", GOOD + '{"title": "Mug"}\n', ":2:", "'id'"),
    ("bad.jsonl", GOOD + '{"id": "a", "title": "Mug"}\n', ":2:", "duplicate id 'a' (first on line 1)"),
    ("bad.jsonl", GOOD + '{"id": "b", "title": "Mug", "year": "soon"}\n', ":2:", "'year'"),
    ("bad.jsonl", GOOD + '{"id": "b", "title": "Mug", "genres": "mugs"}\n', ":2:",
     "field 'genres': expected a JSON array"),
    ("bad.jsonl", GOOD + '{"id": ["b"], "title": "Mug"}\n', ":2:", "field 'id'"),
    ("bad.jsonl", GOOD + '{"id": "b", "title": ""}\n', ":2:", "'title'"),
    ("bad.jsonl", GOOD + '["b", "Mug"]\n', ":2:", "expected a JSON object"),
    ("bad.jsonl", GOOD + '{"id": "b", "title": "Mug", "popularity": -1}\n', ":2:", "'popularity'"),
    ("empty.jsonl", "", "", "no items"),
    ("blank.jsonl", "\n\n", "", "no items"),
    ("empty.csv", "id,title\n", "", "no items"),
    ("bad.csv", "id,title,year\na,Kettle,2001\nb,Mug,soon\n", ":3:", "'year'"),
    ("bad.csv", "id,title\na,Kettle\na,Mug\n", ":3:", "duplicate id"),
    ("bad.csv", "title,year\nKettle,2001\n", ":2:", "'id'"),
    ("bad.csv", "id,title\na,Kettle,extra\n", ":2:", "more cells"),
    ("latin1.jsonl", GOOD.encode() + '{"id": "b", "title": "Café"}\n'.encode("latin-1"), ":2:",
     "not valid UTF-8"),
    ("latin1.csv", "id,title\na,Kettle\nb,Café\n".encode("latin-1"), ":3:", "not valid UTF-8"),
])
def test_malformed_input_names_file_line_and_field(tmp_path, name, content, where, words):
    path = _write(tmp_path, name, content)
    with pytest.raises(CatalogFormatError) as caught:
        load_custom(path)
    message = str(caught.value)
    assert message.startswith(str(path) + where) and words in message
    assert "\n" not in message


def test_interactions_must_reference_catalog_items(tmp_path):
    path = _write(tmp_path, "shop.jsonl", GOOD)
    _write(tmp_path, "shop.interactions.csv", "user_id,item_id,rating\nu1,a,5\nu1,zzz,4\n")
    with pytest.raises(CatalogFormatError, match=r"shop\.interactions\.csv:3: field 'item_id'"):
        load_custom(path)
    _write(tmp_path, "shop.interactions.csv", "user_id,item_id,rating\nu1,a,great\n")
    with pytest.raises(CatalogFormatError, match=r":2: field 'rating'"):
        load_custom(path)


def test_unknown_specs_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="movielens, redial"):
        load_catalog("imdb")
    with pytest.raises(ConfigError, match="does not exist"):
        load_catalog(str(tmp_path / "nothing.jsonl"))
