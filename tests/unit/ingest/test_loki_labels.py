"""Loki's label text read in one pass: good text, escapes, hostile text, and properties on generated input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.ingest.loki_labels import MAX_LABELS, MAX_LABELS_TEXT, LabelsError, parse_labels


def written(labels: dict[str, str]) -> str:
    """``labels`` as Loki writes them (Go's quoting of the values)."""
    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return "{" + ", ".join(f'{name}="{quoted(value)}"' for name, value in labels.items()) + "}"


@pytest.mark.parametrize(("text", "labels"), [
    ("{}", {}), (" { } ", {}), ('{app="shop"}', {"app": "shop"}),
    ('{app="shop", level="warn"}', {"app": "shop", "level": "warn"}),
    ('{ a = "1" ,b="2", }', {"a": "1", "b": "2"}), ('{_x="", y9="\\"q\\" \\\\ \\n \\t \\z"}', {
        "_x": "", "y9": '"q" \\ \n \t \\z'})])
def test_label_text_is_read_with_its_escapes(text: str, labels: dict[str, str]) -> None:
    assert parse_labels(text) == labels


@pytest.mark.parametrize("text", [
    "", "app", '{app="shop"', '{app="shop}', '{app="shop\\"}', '{app=shop}', '{1a="x"}', '{app="x" b="y"}',
    '{app="x"} tail', '{,}', '{app:"x"}', '{a="b\\', '{"a"="b"}', "{a=\"b\",,}"])
def test_malformed_label_text_is_refused(text: str) -> None:
    with pytest.raises(LabelsError):
        parse_labels(text)


def test_bounds_on_the_text_and_the_number_of_labels() -> None:
    with pytest.raises(LabelsError, match="longer"):
        parse_labels("{" + 'a="' + "x" * (1024 * 1024) + '"}')  # a megabyte is refused before it is read
    assert len(parse_labels(written({f"l{i}": "v" for i in range(MAX_LABELS)}))) == MAX_LABELS
    with pytest.raises(LabelsError, match="more than"):
        parse_labels(written({f"l{i}": "v" for i in range(MAX_LABELS + 1)}))


@pytest.mark.parametrize("hostile", [
    '{a="' + "\\" * (MAX_LABELS_TEXT - 10),  # escapes that never end
    '{a="' + '\\"' * ((MAX_LABELS_TEXT - 10) // 2),  # escaped quotes only: the quote is searched again and again
    "{" + 'a="",' * ((MAX_LABELS_TEXT - 10) // 5),  # labels without end (refused at the label bound)
    "{" + " " * (MAX_LABELS_TEXT - 10),
    '{a="' + "x" * (MAX_LABELS_TEXT - 10),  # unterminated quote
])
def test_hostile_text_at_the_bound_is_refused_in_one_pass(hostile: str) -> None:
    with pytest.raises(LabelsError):
        parse_labels(hostile)


def test_a_value_of_many_escapes_is_read_in_one_pass() -> None:
    value = '\\"' * ((MAX_LABELS_TEXT - 10) // 2)
    assert parse_labels('{a="' + value + '"}') == {"a": '"' * ((MAX_LABELS_TEXT - 10) // 2)}


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@given(st.dictionaries(NAMES, st.text(max_size=20), max_size=8))
def test_written_labels_read_back_the_same(labels: dict[str, str]) -> None:
    assert parse_labels(written(labels)) == labels


@given(st.text(alphabet=st.sampled_from('{}=",\\ a_1\nx'), max_size=60) | st.text(max_size=60))
def test_any_text_gives_labels_or_labels_error(text: str) -> None:
    try:
        labels = parse_labels(text)
    except LabelsError:
        return
    assert all(isinstance(value, str) for value in labels.values())
