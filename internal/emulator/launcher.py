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
such as CUR 2.0's BILLING_PERIOD=YYYY-MM folders).
moto does not serve BCM Data Exports at all: a minimal stand-in for it
(CreateExport, GetExport, ListExports; see _DataExports) answers those calls,
after moto's own signature and IAM checks. moto's CloudFormation cannot
create EventBridge connections and API destinations (its events models
serve them through the API only); _EventsConnection and _EventsApiDestination
give them CloudFormation models that call the same backend, so the events
stack deploys whole. Then it runs moto's own server.
"""
import json
import re
import sys
import threading
import traceback
import time
import uuid
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from moto.core.exceptions import AccessDeniedError

from moto.iam import access_control
from moto.moto_server import werkzeug_app
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

class _DataExports:
    """A stand-in for the BCM Data Exports API, which moto 5.2.1 does not
    serve: CreateExport, GetExport and ListExports in the JSON 1.1 protocol
    of the real service, kept in memory per account (the caller's, from its
    access key, as moto resolves it for every service) until /moto-api/reset.
    Calls are authenticated and authorized by moto's own IAM checks (signature,
    then the caller's policies for bcm-data-exports:<Operation>) once moto
    enforces IAM, as AWS would. It exists so that crossbill's verification can
    discover a CUR 2.0 export through the customer's role in tests and the
    sandbox; it validates only what crossbill relies on."""

    SERVICE = "bcm-data-exports"
    TARGET = "AWSBillingAndCostManagementDataExports."

    def __init__(self):
        self.lock = threading.Lock()
        self.exports = {}  # account -> {arn: export}

    def reset(self):
        with self.lock:
            self.exports = {}

    @classmethod
    def wants(cls, environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        return f"/{cls.SERVICE}/aws4_request" in auth and environ.get("HTTP_X_AMZ_TARGET", "").startswith(cls.TARGET)

    def __call__(self, environ, start_response):
        from werkzeug.exceptions import HTTPException
        from werkzeug.wrappers import Request

        req = Request(environ)
        body = req.get_data()
        operation = environ["HTTP_X_AMZ_TARGET"][len(self.TARGET):]
        try:
            payload = json.loads(body or b"{}")
            account = self._authenticate(req, body, operation, payload)
            handler = {"CreateExport": self._create, "GetExport": self._get, "ListExports": self._list}.get(operation)
            if handler is None:
                return self._error(start_response, 400, "UnknownOperationException", f"the Data Exports stand-in does not serve {operation}")
            with self.lock:
                status, out = handler(self.exports.setdefault(account, {}), account, payload)
        except _ApiError as e:
            return self._error(start_response, e.status, e.code, e.message)
        except HTTPException as e:
            code = getattr(e, "error_type", None) or "AccessDeniedException"
            if code == "AccessDenied":  # the JSON protocol's name of it
                code = "AccessDeniedException"
            return self._error(start_response, e.code or 403, code, getattr(e, "message", None) or str(e))
        except ValueError as e:
            return self._error(start_response, 400, "SerializationException", str(e))
        except Exception as e:  # noqa: BLE001 - answer in the protocol, never an HTML page
            # An unexpected failure answers as AWS would (a JSON 500) and
            # leaves its traceback in moto's log, so it can be found.
            traceback.print_exc()
            return self._error(start_response, 500, "InternalServerException", f"Data Exports stand-in: {type(e).__name__}: {e}")
        return self._answer(start_response, status, out)

    @staticmethod
    def _resource(operation, account, payload):
        # What IAM authorizes each operation on, as AWS does: the export for
        # GetExport (crossbill's role may read export/* only) and
        # CreateExport, any for ListExports.
        if operation == "GetExport":
            return str(payload.get("ExportArn", ""))
        if operation == "CreateExport":
            name = (payload.get("Export") or {}).get("Name", "")
            return f"arn:aws:bcm-data-exports:us-east-1:{account}:export/{name}"
        return "*"

    def _authenticate(self, req, body, operation, payload):
        from moto.core import authorization
        from moto import settings
        from moto.iam.models import get_account_id_from

        key = re.search(r"Credential=([^/]+)/", req.headers.get("Authorization", ""))
        account = get_account_id_from(key.group(1) if key else "")
        mixin = authorization.ActionAuthenticatorMixin
        if mixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            mixin.request_count += 1
            return account
        headers = dict(req.headers.items())
        check = access_control.IAMRequest(account_id=account, method=req.method, path=req.full_path.rstrip("?"),
                                          data={}, body=body, headers=headers, action=operation)
        check.check_signature()
        check.check_action_permitted(self._resource(operation, account, payload))
        return account

    @staticmethod
    def _create(exports, account, payload):
        export = payload.get("Export") or {}
        name = export.get("Name", "")
        dest = (export.get("DestinationConfigurations") or {}).get("S3Destination") or {}
        if not re.fullmatch(r"[0-9A-Za-z!\-_.*'()]{1,128}", name):
            raise _ApiError(400, "ValidationException", "Export.Name must be 1-128 characters of 0-9A-Za-z!-_.*'()")
        if not (export.get("DataQuery") or {}).get("QueryStatement"):
            raise _ApiError(400, "ValidationException", "Export.DataQuery.QueryStatement is required")
        if not dest.get("S3Bucket"):
            raise _ApiError(400, "ValidationException", "Export.DestinationConfigurations.S3Destination.S3Bucket is required")
        if any(e["Name"] == name for e in exports.values()):
            raise _ApiError(400, "ValidationException", f"an export named {name} already exists")
        arn = f"arn:aws:bcm-data-exports:us-east-1:{account}:export/{name}-{uuid.uuid4()}"
        export = dict(export, ExportArn=arn)
        # Data Exports' timestamps are ISO 8601 strings, not epoch numbers.
        exports[arn] = {"Export": export, "Created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        return 200, {"ExportArn": arn}

    @staticmethod
    def _status(e):
        return {"StatusCode": "HEALTHY", "CreatedAt": e["Created"], "LastUpdatedAt": e["Created"]}

    def _get(self, exports, account, payload):
        e = exports.get(payload.get("ExportArn", ""))
        if e is None:
            raise _ApiError(400, "ResourceNotFoundException", f"export {payload.get('ExportArn', '')} not found")
        return 200, {"Export": e["Export"], "ExportStatus": self._status(e)}

    def _list(self, exports, account, payload):
        refs = [{"ExportArn": arn, "ExportName": e["Export"]["Name"], "ExportStatus": self._status(e)} for arn, e in exports.items()]
        return 200, {"Exports": refs}

    @staticmethod
    def _answer(start_response, status, out):
        data = json.dumps(out).encode()
        start_response(f"{status} OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))),
                                       ("X-Amzn-Requestid", str(uuid.uuid4()))])
        return [data]

    @staticmethod
    def _error(start_response, status, code, message):
        data = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        start_response(f"{status} ERROR", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))),
                                          ("X-Amzn-Errortype", code), ("X-Amzn-Requestid", str(uuid.uuid4()))])
        return [data]


class _ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_data_exports = _DataExports()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _dispatch_with_stand_ins(self, environ, start_response):
    if _DataExports.wants(environ):
        return _data_exports(environ, start_response)
    if environ.get("PATH_INFO") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
        _data_exports.reset()
    return _dispatch(self, environ, start_response)


werkzeug_app.DomainDispatcherApplication.__call__ = _dispatch_with_stand_ins


from moto.core.common_models import CloudFormationModel  # noqa: E402
from moto.events.models import events_backends  # noqa: E402


class _EventsConnection(CloudFormationModel):
    """AWS::Events::Connection through moto's events backend (which keeps the
    auth parameters in a Secrets Manager secret, as EventBridge does)."""

    __module__ = "moto.events.models"  # moto's model registry keys classes by their service module

    def __init__(self, conn):
        self.conn = conn

    @staticmethod
    def cloudformation_type():
        return "AWS::Events::Connection"

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @property
    def physical_resource_id(self):
        return self.conn.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn", "SecretArn"]

    def get_cfn_attribute(self, attr):
        return {"Arn": self.conn.arn, "SecretArn": self.conn.secret_arn}[attr]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = events_backends[account_id][region_name]
        name = p.get("Name") or resource_name
        backend.create_connection(name, p.get("Description", ""), p["AuthorizationType"], p["AuthParameters"])
        return cls(backend.connections[name])


class _EventsApiDestination(CloudFormationModel):
    """AWS::Events::ApiDestination through moto's events backend."""

    __module__ = "moto.events.models"

    def __init__(self, dest):
        self.dest = dest

    @staticmethod
    def cloudformation_type():
        return "AWS::Events::ApiDestination"

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @property
    def physical_resource_id(self):
        return self.dest.name

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ["Arn"]

    def get_cfn_attribute(self, attr):
        return {"Arn": self.dest.arn}[attr]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = events_backends[account_id][region_name]
        name = p.get("Name") or resource_name
        backend.create_api_destination(name, p.get("Description", ""), p["ConnectionArn"], p["InvocationEndpoint"],
                                       int(p.get("InvocationRateLimitPerSecond", 300)), p["HttpMethod"])
        return cls(backend.destinations[name])

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
