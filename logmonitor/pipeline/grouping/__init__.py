"""Error grouping, by version: v1 (frozen, the groups made before versions) and v2 (message parameters, stack frames).

``logmonitor/pipeline/fingerprint.py`` chooses among the versions; each module here is one version or
one part of one.
"""
