"""Publishing: the quality gate on the mart and the dated CSV reports."""
