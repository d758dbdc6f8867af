"""Load data/raw_*.csv|parquet into mock_data.duckdb; see course_engagement.loader."""

from course_engagement.loader import main

raise SystemExit(main())
