"""`course-engagement docs` before dbt runs: what it refuses, and where it serves.

The site itself, generated and served, is checked in a browser in tests/test_docs_browser.py.
"""

from __future__ import annotations

import threading
import urllib.request

import pytest

from course_engagement import docs


def test_without_a_database_it_says_to_build_one_first(tmp_path, monkeypatch):
    missing = tmp_path / "none.duckdb"
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(missing))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    with pytest.raises(SystemExit, match=rf"no database at {missing}: build it first with"):
        docs.main(["--static"])
    assert not (tmp_path / "output").exists()


def test_the_server_binds_localhost_only_and_serves_the_folder(tmp_path):
    (tmp_path / "index.html").write_text("<p>docs</p>")
    with docs.server(tmp_path, 0) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            host, port = httpd.server_address[:2]
            assert host == "127.0.0.1"
            assert docs.url(httpd) == f"http://127.0.0.1:{port}/"
            with urllib.request.urlopen(docs.url(httpd) + "index.html", timeout=10) as response:
                assert response.read() == b"<p>docs</p>"
        finally:
            httpd.shutdown()
