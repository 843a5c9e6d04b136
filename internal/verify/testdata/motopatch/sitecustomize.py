"""Test-only correction of moto 5.2.1 for crossbill's verify tests.

moto checks a role's trust policy on sts:AssumeRole only when the role lives
in the caller's own account: IAMRequestBase looks the role up in the
caller's IAM backend, finds nothing for a role of another account, and then
skips the trust check entirely. Cross-account AssumeRole (crossbill's whole
design) would succeed with any external ID, or none. This looks the role up
in the backend of the account its ARN names, so trust policies (and the
emulator launcher's external-ID fix) apply across accounts as in AWS.

Python imports sitecustomize at start-up when this directory is on
PYTHONPATH; the verify tests put it there before starting moto. It belongs
in internal/emulator/launcher.py; then this file can go.
"""
import re

from moto.iam import access_control
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.iam.utils import REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK
from moto.utilities.utils import get_partition

_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/")


def _role_of(self, role_arn):
    m = _ROLE.match(role_arn or "")
    if not m:
        raise NotFoundException("not a role ARN")
    backend = iam_backends[m.group(2)][get_partition(self._region)]
    return backend.get_role_by_arn(role_arn)


def _is_assuming_role_operation(self, resource_arn):
    if ":role" not in resource_arn.lower():
        return False
    try:
        _role_of(self, resource_arn)
    except NotFoundException:
        return False
    return self._action in REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK


def _check_role_trust_relationship(self, role_arn):
    role = _role_of(self, role_arn)
    policy = access_control.IAMPolicy(role.assume_role_policy_document)
    result = policy.is_action_permitted(
        self._action,
        role_arn,
        self._access_key.arn,
        access_control.format_incoming_conditional_values(self._data),
    )
    return result == access_control.PermissionResult.PERMITTED


access_control.IAMRequestBase._is_assuming_role_operation = _is_assuming_role_operation
access_control.IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship
