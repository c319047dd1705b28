"""Helpers of newsflow's article extraction: benchmark scoring, site boilerplate, metadata."""
