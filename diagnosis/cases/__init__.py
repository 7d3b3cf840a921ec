"""Cases and their lifecycle: every transition, the wait for a report, escalation and email.

`services` is the one place a case changes, each change in a locked transaction with its
entry in the history (`history`). Around it: matching stored reports to waiting cases
(`matching`), the waiting sweep and its schedule (`sweep`, `waiting`), escalations to the
provider and the email outbox, staff notifications, the agents' queue and case file, test
SMS and the console search helper. Depends on `guide` and `delivery`, never the other way.
"""
