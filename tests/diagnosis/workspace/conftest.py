"""Fixtures of the workspace's view tests: a case claimed by the agent, and the agent signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.cases import services
from diagnosis.models import Case


@pytest.fixture
def claimed(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return case


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client
