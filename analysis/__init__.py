"""Statistics for the cohort figures: lifelines for survival, scipy for tests and exact intervals."""
