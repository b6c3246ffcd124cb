"""Property-based tests: the array encoding, the projection and the Markdown front end."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossarticle.content import number_figures, parse_article, read_sources
from lossarticle.directions import Plane
from lossarticle.errors import ContentError
from lossarticle.schema import ARRAY_DTYPES, decode_array, encode_array
from lossarticle.project import project_path
from tests.tiny import TINY_ARTICLE, TINY_REGISTRY, write_article

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(hnp.arrays(dtype=st.sampled_from(ARRAY_DTYPES).map(np.dtype),
                  shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))
def test_encoding_round_trips_every_supported_dtype_and_shape(array: np.ndarray) -> None:
    decoded = decode_array(json.loads(json.dumps(encode_array(array))))
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)  # NaN compares equal to NaN here


@FAST
@given(hnp.arrays(dtype=st.sampled_from(["complex64", "complex128", "datetime64[s]", "U3", "object"]),
                  shape=hnp.array_shapes(max_dims=2, max_side=3)))
def test_encoding_refuses_unsupported_dtypes_clearly(array: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"cannot encode dtype .* \(supported: bool, uint8"):
        encode_array(array)


@FAST
@given(seed=st.integers(0, 2 ** 32 - 1), dims=st.integers(2, 40),
       coeffs=hnp.arrays(np.float64, (5, 2), elements=st.floats(-1e3, 1e3)))
def test_projection_recovers_coefficients_of_points_on_the_plane(seed: int, dims: int, coeffs: np.ndarray) -> None:
    rng = np.random.default_rng(seed)
    d1, d2 = rng.standard_normal(dims) * rng.uniform(0.1, 10), rng.standard_normal(dims)
    basis = np.stack([d1, d2], axis=1)
    assume(np.linalg.cond(basis) < 1e4)  # two directions that really span a plane
    plane = Plane("random", rng.standard_normal(dims), d1, d2, None, ("a", "b"))
    projection = project_path(plane.origin + coeffs @ basis.T, plane)
    scale = 1 + np.abs(coeffs).max()
    np.testing.assert_allclose(projection.coords, coeffs, atol=1e-8 * scale * np.linalg.cond(basis))
    assert np.all(projection.distance <= 1e-8 * scale * np.linalg.norm(basis))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
       | st.lists(st.sampled_from(["---", "title: x", ":::", "::: figure tiny", "::: explorer", "{{", "}}",
                                   "{%", "%}", "[^a]", "[^a]: n", "# h", "`", "```", "\n", " ", "exp", "figref(",
                                   "\"tiny\"", ")", "|", "num", "<script>", "&", "*"]), max_size=40).map("".join))
def test_markdown_front_end_renders_or_raises_content_error(tmp_path_factory, tiny_summaries, text: str) -> None:
    folder = write_article(tmp_path_factory.mktemp("fuzz"), {**TINY_ARTICLE, "01-intro.md": text})
    known = tuple(e.slug for e in TINY_REGISTRY)
    try:
        sources = read_sources(folder, "article")
        article = parse_article(sources, tiny_summaries, number_figures(sources, known), lambda ref, c: c)
    except ContentError as error:
        assert error.message.startswith("article/") and "\n" not in error.message
    else:
        assert all("<script>" not in s.html for s in article.sections)  # raw HTML is escaped
