"""Triage of error groups: statuses, their changes by requests and by events, and what the API and alerts see.

Pure logic on plain values (JSON-safe cells, epoch floats, offsets): no Faust, no Kafka.

The state machine (``status.py``; stored status, then what changes it)::

    unresolved --resolve--> resolved --an event--> unresolved  (history why=regression: shown "regressed")
    unresolved/resolved --ignore--> ignored {} | {count: N} | {until: t}
    ignored {count: N} --the Nth event after the ignore--> unresolved  (why=ignore_count)
    ignored {until: t} --time t passes--> unresolved  (why=ignore_until)
    any --a request for another status (or another ignore)--> that status  (why=request)

Reopenings by events (``regression``, ``ignore_count``) are the signals the ``regression`` rule
fires on, once each; an ignored group signals nothing. Derived states (``view.py``), for
unresolved groups only: ``regressed`` (reopened by an event, within 7 days), ``escalating``
(``escalation.py``), ``new`` (first seen within 7 days). Every event and command carries its
offset, and one already applied changes nothing, so replays after a kill are harmless.

Modules: ``commands.py`` (the PATCH body and the command-topic value), ``status.py`` (the cell
and its transitions), ``buckets.py`` (bounded counts per 5 min, hour, day), ``escalation.py``,
``view.py`` (statuses, counts and history for the API), ``alerting.py`` (what the two rules see).
"""
