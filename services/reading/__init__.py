"""Reads of the record: a patient's history as of any moment, the history index, and the
plan document every view and read serialises."""
