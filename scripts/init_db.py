"""Load data/raw_*.csv|parquet into mock_data.duckdb; see course_engagement.ingest.loader."""

from course_engagement.ingest.loader import main

raise SystemExit(main())
