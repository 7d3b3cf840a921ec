"""Huawei Cloud SMS: the send API client, push-signature checks, and a local simulator of the platform."""
