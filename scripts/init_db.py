"""Load data/raw_*.csv|parquet into mock_data.duckdb; see course_engagement.ingest.load_cli."""

from course_engagement.ingest.load_cli import main

raise SystemExit(main())
