"""The legacy query (1-sql/) against the mart: every difference attributed to a named flaw.

`flaws` names the flaws, `model.sql` is the legacy logic with each flaw switchable (everything
that is not a flaw is read from the mart's own dbt models), `compare` walks legacy -> model ->
mart, `command` prints it (`course-engagement reconcile`).
"""
