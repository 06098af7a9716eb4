"""Local input locations: listing, versions, missing sources, and local copies."""

import os

import pytest

from orchestration.sources.location import (
    SourceFile,
    is_s3,
    list_source_files,
    local_copy,
    split_s3_uri,
)

SUFFIXES = (".jsonl", ".json")


def test_is_s3_and_split():
    assert is_s3("s3://bucket/prefix/")
    assert is_s3("S3://bucket/key.jsonl")
    assert not is_s3("/data/s3/x.jsonl")
    assert not is_s3("exports/")
    assert split_s3_uri("s3://bucket/a/b.jsonl") == ("bucket", "a/b.jsonl")
    assert split_s3_uri("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError):
        split_s3_uri("s3:///key")


def test_a_single_file_is_listed_whatever_its_name(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("{}\n")
    [file] = list_source_files(str(path), SUFFIXES)
    assert file.uri == str(path.resolve())
    assert file.size == 3
    stat = path.stat()
    assert file.version == f"{stat.st_mtime_ns}:{stat.st_size}"


def test_a_folder_is_searched_recursively_for_the_suffixes(tmp_path):
    (tmp_path / "b.jsonl").write_text("{}\n")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "a.json").write_text("{}\n")
    (tmp_path / "notes.csv").write_text("x\n")
    (tmp_path / "folder.jsonl").mkdir()  # a folder with a matching name is no file

    files = list_source_files(str(tmp_path), SUFFIXES)

    assert [f.uri for f in files] == sorted(
        [str(tmp_path / "b.jsonl"), str(tmp_path / "nested" / "deeper" / "a.json")]
    )
    assert all(os.path.isabs(f.uri) for f in files)


def test_the_version_changes_when_the_file_changes(tmp_path):
    path = tmp_path / "messages.jsonl"
    path.write_text('{"a": 1}\n')
    [before] = list_source_files(str(tmp_path), SUFFIXES)
    [again] = list_source_files(str(tmp_path), SUFFIXES)
    assert again == before

    with path.open("a") as handle:
        handle.write('{"a": 2}\n')
    [grown] = list_source_files(str(tmp_path), SUFFIXES)
    assert grown.version != before.version
    assert grown.size > before.size

    # Same size, new content: the modification time tells it apart.
    path.write_text('{"a": 3}\n{"a": 4}\n')
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    [rewritten] = list_source_files(str(tmp_path), SUFFIXES)
    assert rewritten.size == grown.size
    assert rewritten.version != grown.version


def test_nothing_to_read_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="source not found"):
        list_source_files(str(tmp_path / "missing.jsonl"), SUFFIXES)
    (tmp_path / "only.csv").write_text("x\n")
    with pytest.raises(FileNotFoundError, match=r"\.jsonl, \.json under"):
        list_source_files(str(tmp_path), SUFFIXES)


def test_s3_locations_need_a_client():
    with pytest.raises(ValueError, match="S3 client"):
        list_source_files("s3://bucket/prefix/", SUFFIXES)
    with pytest.raises(ValueError, match="S3 client"), local_copy("s3://bucket/key.jsonl"):
        pass


def test_local_copy_of_a_local_file_is_the_file_itself(tmp_path):
    path = tmp_path / "messages.jsonl"
    path.write_text("{}\n")
    with local_copy(str(path)) as local:
        assert local == path
        assert local.read_text() == "{}\n"
    [file] = list_source_files(str(path), SUFFIXES)
    assert isinstance(file, SourceFile)
    with local_copy(file) as local:
        assert local == path.resolve()
    assert path.exists()  # a local source is never deleted
