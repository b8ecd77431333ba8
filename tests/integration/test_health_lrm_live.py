"""A health-speaking LRM (profile ``lrm-health-json``) through the whole bridge on a real RabbitMQ with mTLS.

The LRM sends RS-EDA, RS-RI and RS-SR frames over the TCP link; the bridge forwards them to a NexSIS
peer through the Hub emulator's dispatcher (official schemas checked) as RC-EDA and RC-RI (the RS-SR
merged onto the case's resources), with the health-only content withheld; NexSIS's createCase and RC-RI
come back to the LRM as RS-EDA and RS-RI; RC-REF acknowledgements flow both ways. A scan of every body
that reached the fire side looks for the withheld health values of the official examples.
"""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal

import pytest
import simplejson

from bridge.core.edxl import make_reference, unwrap, wrap
from bridge.core.framing import NEED_DATA, Deframer, frame
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body
from bridge.testing.waiting import wait_until
from tests.health_corpus import REF, example
from tests.integration.rabbitmq import SAMU, SDIS, bridge_config, client_settings

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found")]
CASE = "fr.fire.sis044.cga-044.SC-20240526-044-cga-AL8"
RS_EDA = "RS-EDA-SMUR_FemmeEnceinte_DelphineVigneau.01.json"


class NexsisPeer:
    """The fire side on the broker: records every body it gets, acknowledges each functional one (RC-REF)."""

    def __init__(self, reactor) -> None:
        self.reactor = reactor
        self.client = None
        self.lock = threading.Lock()
        self.bodies: list[bytes] = []
        self.messages: list = []
        self.acks: list[str] = []

    def on_message(self, delivery) -> None:
        received = unwrap(decode_hub_body(delivery.body, delivery.content_type))
        with self.lock:
            self.bodies.append(bytes(delivery.body))
            self.messages.append(received)
        self.send("reference", make_reference(received.distribution_id), recipient=received.sender_id, kind="Ack")

    def on_ack(self, delivery) -> None:
        received = unwrap(decode_hub_body(delivery.body, delivery.content_type))
        with self.lock:
            self.acks.append(received.payload["distributionID"])

    def on_info(self, delivery) -> None:
        with self.lock:
            self.bodies.append(bytes(delivery.body))

    def send(self, name: str, payload: dict, *, recipient: str = SAMU, kind: str = "Report") -> str:
        message_uuid = str(uuid.uuid4())
        from datetime import UTC, datetime

        message = wrap(name, payload, sender_id=SDIS, recipient_id=recipient, now=datetime.now(UTC),
                       message_uuid=message_uuid, kind=kind)
        self.client.publish(encode_hub_body(message), content_type="application/json",
                            message_id=f"{SDIS}_{message_uuid}")
        return f"{SDIS}_{message_uuid}"

    def of_kind(self, name: str) -> list:
        with self.lock:
            return [m for m in self.messages if m.payload_name == name]


class HealthLrm:
    """The LRM's side of the TCP link: length-prefixed UTF-8 JSON frames, acks and health messages back."""

    def __init__(self, port: int) -> None:
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.settimeout(0.2)
        self.deframer = Deframer("length-prefix")
        self.replies: list[str] = []
        self.documents: list[dict] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(frame(data, "length-prefix"))

    def poll(self) -> None:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        self.deframer.feed(data)
        while (item := self.deframer.next_frame()) is not NEED_DATA:
            text = bytes(item).decode("utf-8")
            if text.startswith(("ACK;", "NACK;")):
                self.replies.append(text)
            else:
                self.documents.append(simplejson.loads(text, parse_float=Decimal))

    def wait(self, condition, timeout: float = 30) -> None:
        def check() -> bool:
            self.poll()
            return condition()

        assert wait_until(check, timeout=timeout), f"the LRM did not get what it waited for: {self.replies}"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def health_bridge(broker, hub, reactor_thread, tmp_path):
    """A bridge whose LRM speaks the health model, and a NexSIS peer, on the test broker."""
    from bridge.edges.amqp.client import HubClient
    from bridge.runtime.runner import start_bridge

    reactor = reactor_thread.reactor
    peer = NexsisPeer(reactor)
    peer.client = HubClient(client_settings(broker, SDIS), reactor, on_message=peer.on_message, on_ack=peer.on_ack,
                            on_info=peer.on_info, stop_on_shutdown=False)
    reactor_thread.call(peer.client.start, timeout=60)
    config = bridge_config(broker, tmp_path, hub={"rcref_deadline_seconds": 30})
    config = config.model_copy(update={"legacy": config.legacy.model_copy(update={"profile": "lrm-health-json"}),
                                       "nomenclatures": config.nomenclatures.model_copy(
                                           update={"dir": REF / "nomenclatures"}),
                                       "schemas": config.schemas.model_copy(update={"dir": REF})})
    running = reactor_thread.call(start_bridge, config, reactor, timeout=60)
    try:
        yield running, peer, reactor_thread
    finally:
        reactor_thread.call(running.stop, timeout=60)
        reactor_thread.call(peer.client.stop, timeout=60)


RESOURCE_PATIENT = "fr.health.samu440.patient.DRFR154402414300123.1-VLM4"


def _rs_ri_with_patient() -> bytes:
    """The official RS-RI with the patient the vehicle carries (health-only: never to the fire side)."""
    document = json.loads(example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.json"))
    document["resourcesInfo"]["resource"][0]["patientId"] = RESOURCE_PATIENT
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _withheld_values() -> list[str]:
    """Health-only values of the official RS-EDA example the fire side must never see (docs/confidentiality.md)."""
    case = json.loads(example("RS-EDA", RS_EDA))["createCaseHealth"]
    patient = case["patient"][0]
    values = [patient["identity"]["strictFeatures"]["birthDate"], patient["identity"]["nonStrictFeatures"]["lastName"],
              patient["identity"]["nonStrictFeatures"]["firstName"], patient["patientId"]]
    values += [patient["hypothesis"]["mainDiagnosis"]["code"], patient["hypothesis"]["mainDiagnosis"]["label"]]
    return [*values, RESOURCE_PATIENT]


def test_health_lrm_talks_to_nexsis_in_cisu_and_back(health_bridge) -> None:
    running, peer, reactor_thread = health_bridge
    lrm = HealthLrm(running.legacy_port)
    try:
        # LRM -> NexSIS: the case, the resources, two statuses
        for data in (example("RS-EDA", RS_EDA), _rs_ri_with_patient(),
                     example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.json"),
                     example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.09.json")):
            lrm.send(data)
        lrm.wait(lambda: len(lrm.replies) == 4)
        assert all(r.startswith("ACK;") for r in lrm.replies), lrm.replies
        assert wait_until(lambda: len(peer.of_kind("createCase")) == 1
                          and len(peer.of_kind("resourcesInfoCisu")) == 3, timeout=30), "NexSIS did not get them all"
        statuses = [m.payload["resource"][0]["state"]["status"] for m in peer.of_kind("resourcesInfoCisu")]
        assert statuses == ["DECLENCHE", "ARRIVEE", "RETOUR"]  # the RS-RI, then each status merged onto it
        assert all(m.payload["resource"][0]["vehicleType"] == "SMUR" for m in peer.of_kind("resourcesInfoCisu"))
        # RC-REF from NexSIS: every message of ours delivered
        assert wait_until(lambda: reactor_thread.call(running.store.counts).get(("out", "delivered")) == 4,
                          timeout=30), "our messages were not all acknowledged by NexSIS (RC-REF)"

        # NexSIS -> LRM: its case and its resources, in the health model; the bridge acknowledges both
        create = simplejson.loads(example("RC-EDA", "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"),
                                  parse_float=Decimal)["createCase"]
        rc_ri = simplejson.loads(example("RC-RI", "RC-RI_FuiteDeGaz_AliceGregoireNORMAND.02.json"),
                                 parse_float=Decimal)["resourcesInfoCisu"]
        sent = [reactor_thread.call(peer.send, "createCase", create, timeout=30),
                reactor_thread.call(peer.send, "resourcesInfoCisu", rc_ri, timeout=30)]
        lrm.wait(lambda: len(lrm.documents) == 2)
        assert [list(d) for d in lrm.documents] == [["createCaseHealth"], ["resourcesInfo"]]
        assert lrm.documents[0]["createCaseHealth"]["caseId"] == create["caseId"]
        assert lrm.documents[1]["resourcesInfo"]["resource"][0]["resourceId"] == rc_ri["resource"][0]["resourceId"]
        assert wait_until(lambda: sorted(peer.acks) == sorted(sent), timeout=30), "no RC-REF from the bridge"
    finally:
        lrm.close()

    # medical confidentiality: nothing withheld reached the fire side, in any body it received
    withheld = _withheld_values()
    assert len(withheld) >= 4
    with peer.lock:
        bodies = b"\n".join(peer.bodies).decode("utf-8")
    assert [v for v in withheld if v in bodies] == []

