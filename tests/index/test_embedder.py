"""The embedders: ONNX and torch give the same vectors, offline; Chroma only ever uses ours."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from chatrec.index import Embedder, MiniLMEmbedder
from chatrec.index.chroma import ChromaEmbedding, persistent_client
from chatrec.index.documents import document_text

pytestmark = pytest.mark.usefixtures("data_dir")


@pytest.fixture()
def no_network(monkeypatch):
    """Record (and refuse) every attempt to open a connection or resolve a name, except to the
    loopback interface."""
    attempts: list[object] = []

    def local(address) -> bool:
        host = address[0] if isinstance(address, tuple) else address
        return isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127."))

    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family == socket.AF_UNIX or local(address):
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"network access attempted: {address}")

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if local((host,)):
            return real_getaddrinfo(host, *args, **kwargs)
        attempts.append(host)
        raise OSError(f"name resolution attempted: {host}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_offline_switches_are_on():
    import chatrec  # noqa: F401

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"


def test_onnx_and_torch_give_the_same_vectors_without_network(embedder, small_movies,
                                                               session_settings, no_network):
    assert embedder.backend == "onnx"
    texts = [document_text(item) for item in list(small_movies)[:32]]
    texts += ["space exploration and time", "", "a", "funny movies with Jim Carrey " * 40]
    onnx = embedder.embed(texts)
    torch_embedder = MiniLMEmbedder(session_settings, backend="torch").load()
    assert torch_embedder.backend == "torch"
    reference = torch_embedder.embed(texts)
    cosines = (onnx * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines.min()
    assert no_network == []


def test_vectors_are_unit_float32_rows_in_input_order(embedder):
    texts = ["a short one", "a much longer text about a heist that goes terribly wrong " * 3, ""]
    matrix = embedder.embed(texts)
    assert isinstance(embedder, Embedder)
    assert matrix.dtype == np.float32 and matrix.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    # Batching sorts by length; the rows must still follow the input order.
    assert np.allclose(matrix[1], embedder.embed([texts[1]])[0], atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_query_embeddings_are_remembered(embedder):
    before = embedder.texts_embedded
    first = embedder.embed_query("a quiet film about grief")
    second = embedder.embed_query("a quiet film about grief")
    assert second is first and not first.flags.writeable
    assert embedder.texts_embedded - before == 1
    assert np.allclose(first, embedder.embed(["a quiet film about grief"])[0], atol=1e-6)


def test_chroma_uses_our_embedding_function_also_when_reopening(small_index, no_network):
    folder = small_index.location / "chroma"
    client = persistent_client(folder)
    # Reopened the way a careless caller would: without an embedding function. Chroma attaches
    # its default function but embeds with the one in the collection's configuration: ours,
    # rebuilt through chatrec's registration (the default would try to download a model).
    careless = client.get_collection("items")
    assert isinstance(careless.configuration.get("embedding_function"), ChromaEmbedding)
    by_careless = careless.query(query_texts=["space exploration and time"], n_results=5)
    careful = client.get_collection("items",
                                    embedding_function=small_index.embedder.as_chroma())
    by_text = careful.query(query_texts=["space exploration and time"], n_results=5)["ids"][0]
    assert by_text == by_careless["ids"][0]
    assert by_text == [i for i, _ in small_index.query("space exploration and time", k=5)]
    assert no_network == []


def test_index_build_and_queries_make_no_network_access(build_scratch, tiny_movies, no_network):
    index = build_scratch(tiny_movies, rebuild=True)
    assert index.query("a love story in Paris", k=3)
    assert no_network == []


def test_document_embedder_matches_the_query_model_with_parallel_batches(
        embedder, small_movies, session_settings, index_cache_root):
    from chatrec.index.embedder import document_embedder, native_bf16

    texts = [document_text(item) for item in list(small_movies)[:150]] + ["", "a"]
    documents = document_embedder(session_settings)
    assert documents.workers >= 1 and documents.name == embedder.name
    bulk = documents.embed(texts)
    assert documents.backend == ("bf16" if native_bf16() else "onnx")
    cosines = (bulk * embedder.embed(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines.min()
    # Several batches side by side give exactly what one batch at a time gives, row for row.
    serial = MiniLMEmbedder(session_settings, backend=documents.requested_backend, workers=1,
                            model_cache_dir=index_cache_root / "models")
    parallel = MiniLMEmbedder(session_settings, backend=documents.requested_backend, workers=3,
                              model_cache_dir=index_cache_root / "models")
    serial.batch_size = parallel.batch_size = 16
    done: list[int] = []
    result = parallel.embed(texts, progress=done.append)
    assert np.allclose(result, serial.embed(texts), atol=1e-5)
    assert sum(done) == len(texts) and parallel.texts_embedded == len(texts)
