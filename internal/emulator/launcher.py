"""crossbill's moto_server launcher.

moto 5.2.1 has two trust-policy gaps that matter to crossbill's tests:
  * a StringEquals condition whose key is absent from the request is treated
    as a match, so AssumeRole without sts:ExternalId wrongly succeeds;
  * an account-root principal (arn:aws:iam::ACCOUNT:root) matches only the
    literal root ARN, while AWS lets it match any identity of that account.
It also checks trust policies across accounts: moto looks a role up in the
caller's own account only, and for a role of another account skips the trust
check entirely (any external ID, or none, is accepted) and hands out
credentials even for roles that do not exist. Here the role is looked up in
the account its ARN names, and a missing role is refused, as in AWS.
It also gives AccessDenied the error shape each protocol's SDK parses (moto
answers every service with EC2's <Errors> envelope, which the AWS SDKs for
query and JSON protocols cannot read), and checks S3 signatures over the
URI-encoded path and query the SDKs sign (moto refuses any key holding '=',
such as CUR 2.0's BILLING_PERIOD=YYYY-MM folders). Then it runs moto's own
server.
"""
import json
import re
import sys
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from moto.core.exceptions import AccessDeniedError

from moto.iam import access_control
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.iam.utils import REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK
from moto.utilities.utils import get_partition
from moto.iam.policy_conditions import CONDITION_OPERATIONS, TrustRelationShipConditions

_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")
_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")


def _check_conditions(self, incoming):
    expected = self._statement.get("Condition")
    if not expected:
        return True
    incoming = incoming or {}
    for condition in TrustRelationShipConditions(expected):
        if condition._condition not in CONDITION_OPERATIONS:
            # moto evaluates StringEquals only and ignores other operators
            # (StringLike s3:prefix on a ListBucket grant); so does this.
            continue
        actual = []
        for key in condition.context_keys:
            if key not in incoming:
                # AWS: a condition key missing from the request context never
                # satisfies StringEquals (only ...IfExists would).
                if not condition._condition.endswith("IfExists"):
                    return False
                continue
            actual.append(incoming[key])
        if actual and not condition.verify_condition(actual):
            return False
    return True


def _principal_matches(expected, principal):
    if expected == "*" or expected == principal:
        return True
    root = _ROOT.match(expected)
    acct = _ACCOUNT.match(principal)
    return bool(root and acct and root.group(1) == acct.group(1))


def _check_principal(self, principal):
    expected = self._statement.get("Principal")
    if not expected:
        return True
    aws = expected.get("AWS") if isinstance(expected, dict) else expected
    if aws is None:
        return False
    if isinstance(aws, str):
        aws = [aws]
    return any(_principal_matches(e, principal) for e in aws)


class _ProtocolAccessDenied(AccessDeniedError):
    def __init__(self, user_arn, action, service, content_type):
        super().__init__(user_arn=user_arn, action=action)
        message = self.message
        if "json" in (content_type or ""):
            self.description = json.dumps({"__type": "AccessDeniedException", "message": message, "Message": message})
            self.content_type = "application/x-amz-json-1.1"
        elif service != "ec2":
            self.description = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                f"<Message>{escape(message)}</Message></Error>"
                "<RequestId>crossbill-moto</RequestId></ErrorResponse>"
            )


def _raise_access_denied(self):
    content_type = ""
    for key, value in (self._headers or {}).items():
        if key.lower() == "content-type":
            content_type = value
    raise _ProtocolAccessDenied(self._access_key.arn, self._action, self._service, content_type)


_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/")


def _is_assuming_role_operation(self, resource_arn):
    return bool(_ROLE.match(resource_arn or "")) and self._action in REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK


def _check_role_trust_relationship(self, role_arn):
    m = _ROLE.match(role_arn or "")
    if not m:
        return False
    try:
        role = iam_backends[m.group(2)][get_partition(self._region)].get_role_by_arn(role_arn)
    except NotFoundException:
        return False
    policy = access_control.IAMPolicy(role.assume_role_policy_document)
    result = policy.is_action_permitted(
        self._action,
        role_arn,
        self._access_key.arn,
        access_control.format_incoming_conditional_values(self._data),
    )
    return result == access_control.PermissionResult.PERMITTED


_s3_create_aws_request = access_control.S3IAMRequest._create_aws_request


def _s3_request_encoded(self):
    # moto checks an S3 signature over the decoded path and query, while the
    # SDKs sign them URI-encoded ('=' as %3D in a CUR 2.0 key such as
    # BILLING_PERIOD=2026-01, '/' as %2F in a prefix): encode them as S3 does.
    path, sep, query = self._path.partition("?")
    pairs = []
    for pair in query.split("&") if query else []:
        key, eq, value = pair.partition("=")
        pairs.append(quote(unquote(key), safe="-_.~") + eq + quote(unquote(value), safe="-_.~"))
    self._path = quote(unquote(path), safe="/~") + sep + "&".join(pairs)
    return _s3_create_aws_request(self)


access_control.S3IAMRequest._create_aws_request = _s3_request_encoded
access_control.IAMRequestBase._is_assuming_role_operation = _is_assuming_role_operation
access_control.IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship
access_control.IAMRequest._raise_access_denied = _raise_access_denied
access_control.IAMPolicyStatement._check_conditions = _check_conditions
access_control.IAMPolicyStatement._check_principal = _check_principal

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
