from __future__ import annotations

from lossarticle.atomic import write_atomic, write_if_changed


def test_atomic_write_leaves_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "x.json"
    write_atomic(target, "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_write_if_changed_leaves_equal_bytes_alone(tmp_path) -> None:
    target = tmp_path / "x.json"
    assert write_if_changed(target, "{}")
    target.chmod(0o444)  # a cached tree may be read-only: an unchanged file must not need writing
    assert not write_if_changed(target, "{}")
    target.chmod(0o644)
    assert write_if_changed(target, '{"a": 1}') and target.read_text() == '{"a": 1}'
