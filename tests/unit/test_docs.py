"""Documentation kept honest: the README's permission table matches the code."""

from pathlib import Path

from serving.auth.permissions import matrix_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_permission_table_matches_code():
    assert matrix_markdown() in README.read_text()
