"""A connector service that misbehaves on request, to test the gateway's side.

It verifies the gateway's request like the real service, then answers as its
``mode`` says: correctly, or with one specific fault.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from joserfc import jws
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.sdk import FetchRequest, FetchResult, Record
from connectors.signing import (
    CONTENT_TYPE,
    RESPONSE_TYPE,
    AgencyErrorBody,
    MessageKey,
    SignedRequest,
    TrustedKeys,
    digest,
    sign_response,
    verify_request,
)

MODES = (
    "ok",
    "bad_signature",
    "forged_signature",
    "other_request",
    "unasked_field",
    "unasked_dataset",
    "float_value",
    "malformed_json",
    "not_jws",
    "json_media_type",
    "status_500",
    "signed_unavailable",
    "slow",
)


def answer_records(request: FetchRequest) -> dict[str, list[Record]]:
    """One record per dataset asked, with exactly the fields asked."""
    return {name: [dict.fromkeys(query.fields, "1.00")] for name, query in request.datasets.items()}


class FakeAgency:
    """A Starlette app whose answers are chosen by :attr:`mode` (``"flap"`` cycles)."""

    def __init__(
        self,
        agency_id: str,
        agency_key: MessageKey,
        gateway_trust: TrustedKeys,
        stranger_key: MessageKey,
        slow_s: float = 0.5,
    ) -> None:
        self.agency_id = agency_id
        self.key = agency_key
        self.gateway_trust = gateway_trust
        self.stranger = stranger_key
        self.slow_s = slow_s
        self.mode = "ok"
        self.requests = 0
        self.request_digests: list[str] = []
        self._flap = itertools.cycle(("ok", "status_500", "bad_signature", "slow", "ok"))
        self.app = Starlette(routes=[Route("/v1/fetch", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> Response:
        """Verify the request, then answer according to the mode."""
        self.requests += 1
        token = (await request.body()).decode()
        signed = verify_request(token, self.gateway_trust, agency_id=self.agency_id)
        self.request_digests.append(signed.digest)
        mode = next(self._flap) if self.mode == "flap" else self.mode
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
            mode = "ok"
        return self._answer(mode, signed)

    def _signed(self, signed: SignedRequest, records: dict[str, Any], **kwargs: Any) -> Response:
        response = sign_response(
            kwargs.get("key", self.key),
            agency_id=self.agency_id,
            request_sha256=kwargs.get("request_sha256", signed.digest),
            result=FetchResult(self.agency_id, records),
        )
        return Response(response.token, 200, media_type=CONTENT_TYPE)

    def _answer(self, mode: str, signed: SignedRequest) -> Response:
        records = answer_records(signed.request)
        first = next(iter(records))
        if mode == "ok":
            return self._signed(signed, records)
        if mode == "bad_signature":
            return self._signed(signed, records, key=self.stranger)
        if mode == "forged_signature":
            token = self._signed(signed, records).body.decode()
            head, payload, _ = token.split(".")
            forged = sign_response(
                self.stranger,
                agency_id=self.agency_id,
                request_sha256=signed.digest,
                result=FetchResult(self.agency_id, records),
            ).token.split(".")[2]
            return Response(f"{head}.{payload}.{forged}", 200, media_type=CONTENT_TYPE)
        if mode == "other_request":
            return self._signed(signed, records, request_sha256=digest("another.request.jws"))
        if mode == "unasked_field":
            records[first][0]["internal_note"] = "not for the court"
            return self._signed(signed, records)
        if mode == "unasked_dataset":
            return self._signed(signed, {**records, "bank.accounts": []})
        if mode == "float_value":
            records[first][0] = dict.fromkeys(records[first][0], 12.5)
            return self._signed(signed, records)
        if mode == "malformed_json":
            header = {"alg": "Ed25519", "typ": RESPONSE_TYPE, "kid": self.key.kid}
            token = jws.serialize_compact(
                header, b'{"records": [', self.key.jwk, algorithms=["Ed25519"]
            )
            return Response(token, 200, media_type=CONTENT_TYPE)
        if mode == "not_jws":
            return Response("certainly not a JWS", 200, media_type=CONTENT_TYPE)
        if mode == "json_media_type":
            return JSONResponse({"agency_id": self.agency_id, "records": records})
        if mode == "status_500":
            return Response("Internal Server Error", 500, media_type="text/plain")
        if mode == "signed_unavailable":
            response = sign_response(
                self.key,
                agency_id=self.agency_id,
                request_sha256=signed.digest,
                error=AgencyErrorBody("AGENCY_UNAVAILABLE", "core banking is down"),
            )
            return Response(response.token, 503, media_type=CONTENT_TYPE)
        raise AssertionError(f"unknown mode {mode}")
