"""Commune clerks (issue 12): the communes as data, the clerk registry, notices to clerks."""
