"""Delivery status as the platform reports it: receiving, reading and storing reports.

The status-report callback (`callback`), the one intake every report goes through
(`ingest`), the status-code catalogue, the Send Details import, phone numbers, report
fetchers a deployment plugs in, and which stored reports belong to a case (`case_reports`). It knows
nothing of case transitions: it stores reports unmatched, and the cases side matches them.
"""
