"""Hostile inputs for the campaign: hand-written attacks plus seeded random mutations.

Every generator returns :class:`~bridge.testing.hostile.Case` objects; the
hand-written ones are the same for the CI tests and the benchmark, the random
ones take a ``random.Random`` so a run can be repeated from its seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bridge.core.edxl import make_error, make_reference, unwrap, wrap
from bridge.core.errors import HubErrorCode
from bridge.core.framing import ETX, STX
from bridge.core.pipeline import legacy_to_hub
from bridge.edges.amqp.consumer import Delivery
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame
from bridge.sim.nexsis_rules import PeerRules, replies_for
from bridge.testing.hostile import JSON, XML, Case, good_frame
from bridge.testing.rig import SAMU, SDIS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MIB = 1024 * 1024
ANSWER_MARK = b"#REPONSE_DEMANDE_CONCOURS#ACCEPTE#"


# ---------------------------------------------------------------------- valid Hub bodies to attack
def _payloads(n: int) -> dict[str, dict]:
    ctx = build_context(sender_id=SAMU, recipient_id=SDIS)
    return {item.name: item.payload for item in legacy_to_hub(demo_frame(n), load_profile("lrm-alpha-text"), ctx)}


def valid_create_case(n: int, content_type: str = JSON) -> bytes:
    """A schema-valid createCase from the NexSIS peer to us, unique per ``n`` (distributionID and caseId)."""
    payload = _payloads(n)["createCase"]
    message = wrap("createCase", payload, sender_id=SDIS, recipient_id=SAMU, now=NOW, message_uuid=uuid.uuid4())
    return encode_hub_body(message, content_type)


def valid_emsi_answer(n: int, content_type: str = JSON) -> bytes:
    """The EMSI answer the NexSIS peer sends to our request for case DEMO-n."""
    request = wrap("emsi", _payloads(n)["emsi"], sender_id=SAMU, recipient_id=SDIS, now=NOW,
                   message_uuid=uuid.uuid4())
    replies = replies_for(unwrap(request), PeerRules(own_id=SDIS), now=NOW, new_uuid=lambda: str(uuid.uuid4()))
    [answer] = [r.message for r in replies if ANSWER_MARK in encode_hub_body(r.message)]
    return encode_hub_body(answer, content_type)


def hub_create_case(n: int, note: str = "Personne au sol", *, sender: str = SDIS, recipient: str = SAMU,
                    envelope_sender: str | None = None, now: datetime = NOW) -> bytes:
    """A createCase from ``sender`` to ``recipient`` with its own caseId (``{SDIS}.CASE-n``) and one note.

    ``envelope_sender`` rewrites the EDXL ``senderID`` alone, for a body whose envelope and header disagree.
    """
    import json

    payload = json.loads(json.dumps(_payloads(n)["createCase"], default=str))
    payload["caseId"] = f"{SDIS}.CASE-{n}"
    payload["initialAlert"]["notes"] = [{"freetext": note}]
    message = wrap("createCase", payload, sender_id=sender, recipient_id=recipient, now=now,
                   message_uuid=uuid.uuid4())
    if envelope_sender is not None:
        message["senderID"] = envelope_sender
    return encode_hub_body(message, JSON)


def hub_delivery(body: bytes, queue: str = "message", tag: int = 1, content_type: str = JSON) -> Delivery:
    """``body`` as the AMQP consumer hands it to the service from our ``{SAMU}.{queue}`` queue."""
    return Delivery(body=body, queue=f"{SAMU}.{queue}", routing_key=f"{SAMU}.{queue}", content_type=content_type,
                    delivery_mode=2, redelivered=False, delivery_tag=tag)


# ---------------------------------------------------------------------- Hub bodies
def corpus_cases(reference: Path) -> list[Case]:
    """Every file of the official ``failing/`` corpus, as a Hub body with its type."""
    return [Case("failing-corpus", path.read_bytes(), "hub", XML if path.suffix == ".xml" else JSON,
                 str(path.relative_to(reference / "failing")))
            for path in sorted((reference / "failing").rglob("*")) if path.suffix in (".json", ".xml")]


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + ']><lolz>&lol9;</lolz>')


def xml_attack_cases(tmp_dir: Path) -> list[Case]:
    """XXE, entity expansion, UTF-16 DOCTYPEs naming local files, deep and oversize XML."""
    dtd = tmp_dir / "probe.dtd"
    dtd.write_bytes(b"this is not a DTD")  # if it were ever read, the error would say 'external subset'
    xxe = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{dtd}">]><x>&e;</x>'
    utf16_external = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "{dtd}"><x>a</x>'
    utf16_stdin = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "/dev/stdin"><x>a</x>'
    parameter = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "{dtd}"> %p;]><x/>'
    return [
        Case("xxe", xxe.encode(), "hub", XML, "external entity SYSTEM file://"),
        Case("xxe", parameter.encode(), "hub", XML, "parameter entity"),
        Case("xxe", utf16_external.encode("utf-16"), "hub", XML, "UTF-16 DOCTYPE SYSTEM local file (BOM)"),
        Case("xxe", utf16_external.encode("utf-16-le"), "hub", XML, "UTF-16LE DOCTYPE SYSTEM local file (no BOM)"),
        Case("xxe", utf16_stdin.encode("utf-16-le"), "hub", XML, "UTF-16LE DOCTYPE SYSTEM /dev/stdin (would block)"),
        Case("entity-expansion", BILLION_LAUGHS.encode(), "hub", XML, "billion laughs"),
        Case("entity-expansion", BILLION_LAUGHS.replace("UTF-8", "UTF-16").encode("utf-16-le"), "hub", XML,
             "billion laughs, UTF-16LE"),
        Case("deep-nesting", b"<a>" * 10_000 + b"</a>" * 10_000, "hub", XML, "10,000-deep XML"),
        Case("deep-nesting", b"<a>" * 100 + b"</a>" * 100, "hub", XML, "100-deep XML (under libxml2's ceiling)"),
        Case("oversize", b"<x>" + b"a" * (MIB + 1) + b"</x>", "hub", XML, "XML over 1 MiB"),
        Case("oversize", b"<x>" + b"<y/>" * 60_000 + b"</x>", "hub", XML, "60,000 elements"),
        Case("invalid-utf8", b'<?xml version="1.0" encoding="UTF-8"?><x>\xff\xfe\xc3</x>', "hub", XML,
             "invalid UTF-8 in XML"),
        Case("wrong-encoding", "<x>é</x>".encode("utf-16"), "hub", XML, "UTF-16 XML body"),
        Case("wrong-encoding", '<?xml version="1.0" encoding="UTF-8"?><x>é</x>'.encode("latin-1"), "hub", XML,
             "latin-1 bytes declared UTF-8"),
    ]


def json_attack_cases(n: int) -> list[Case]:
    """Deep, huge, duplicated, truncated and badly encoded JSON bodies."""
    good = valid_create_case(n)
    dup = good.replace(b'"senderID":', b'"senderID":"fr.health.samu999","senderID":', 1)
    huge_number = valid_create_case(n + 1).replace(b'"distributionStatus":"Actual"',
                                                   b'"distributionStatus":"Actual","x":1e999999', 1)
    return [
        Case("deep-nesting", b"[" * 10_000 + b"]" * 10_000, "hub", JSON, "10,000-deep JSON arrays"),
        Case("deep-nesting", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "hub", JSON, "10,000-deep JSON objects"),
        Case("json-oddities", dup, "hub", JSON, "duplicate senderID key"),
        Case("json-oddities", huge_number, "hub", JSON, "number 1e999999"),
        Case("json-oddities", b'{"a":1' + b"0" * 100_000 + b"}", "hub", JSON, "100,000-digit integer"),
        Case("json-oddities", b'{"a":NaN,"b":-Infinity}', "hub", JSON, "NaN / Infinity"),
        Case("json-oddities", b"[]", "hub", JSON, "top-level array"),
        Case("json-oddities", b'"just a string"', "hub", JSON, "top-level string"),
        Case("oversize", b'{"a":"' + b"x" * (2 * MIB) + b'"}', "hub", JSON, "JSON over 1 MiB"),
        Case("invalid-utf8", good.replace(b"Nantes", b"Nan\xff\xfetes", 1), "hub", JSON, "invalid UTF-8 in JSON"),
        Case("wrong-encoding", good.decode().encode("utf-16"), "hub", JSON, "UTF-16 JSON"),
        Case("truncated", good[: len(good) // 2], "hub", JSON, "JSON cut in half"),
        Case("truncated", b"", "hub", JSON, "empty body"),
        Case("truncated", valid_create_case(n + 2, XML)[:300], "hub", XML, "XML cut after 300 bytes"),
    ]


def unknown_code_hub_cases(n: int) -> list[Case]:
    """Codes no table maps: a rejecting table dead-letters, a fallback table maps with a warning."""
    answer = valid_emsi_answer(n)
    assert ANSWER_MARK in answer
    return [
        Case("unknown-code", answer.replace(ANSWER_MARK, b"#REPONSE_DEMANDE_CONCOURS#PEUTETRE#"), "hub", JSON,
             "EMSI answer code through answer-aliases (reject)"),
        Case("unknown-code", _with_unknown_whats_happen(n + 1), "hub", JSON,
             "createCase whatsHappen unknown (fallback)"),
    ]


def _with_unknown_whats_happen(n: int) -> bytes:
    import json

    body = json.loads(valid_create_case(n))
    case = body["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["createCase"]
    case["qualification"]["whatsHappen"]["code"] = "C99.99.99"
    return json.dumps(body, separators=(",", ":")).encode()


# ---------------------------------------------------------------------- legacy frames (lrm-alpha-text)
def legacy_attack_cases(n: int) -> list[Case]:
    """Truncated, incomplete, badly dated, badly encoded and unknown-coded case sheets."""
    frame = demo_frame(n)
    cases = [Case("truncated-frame", frame[:cut], "legacy", None, f"cut at {cut}")
             for cut in (0, 1, 11, 24, 40, len(frame) // 2, len(frame) - 1)]
    for key in (b"NUM_DOSSIER", b"DATE_APPEL", b"NATURE", b"COMMUNE"):
        lines = [line for line in demo_frame(n).split(b"\r\n") if not line.startswith(key + b"=")]
        cases.append(Case("missing-field", b"\r\n".join(lines), "legacy", None, f"no {key.decode()}"))
    for bad in (b"hier", b"20261345250000", b"2026112510000", b"99999999999999", b"2026-11-25T10:00:00"):
        cases.append(Case("bad-date", frame.replace(b"DATE_APPEL=20261125100000", b"DATE_APPEL=" + bad), "legacy",
                          None, bad.decode()))
    cases += [
        Case("wrong-encoding", frame.decode("cp1252").encode("utf-16"), "legacy", None, "UTF-16 into cp1252"),
        Case("wrong-encoding", frame.decode("cp1252").encode("utf-8"), "legacy", None, "UTF-8 into cp1252"),
        Case("invalid-bytes", frame.replace(b"QUALITE_APPELANT=TEM", b"QUALITE_APPELANT=\x81\x8d"), "legacy",
             None, "bytes cp1252 does not define"),
        Case("unknown-code", frame.replace(b"TYPE_VICTIME=SEN", b"TYPE_VICTIME=ZZZ"), "legacy", None,
             "profile code list (reject)"),
        Case("unknown-code", frame.replace(b"NATURE=CHUT", b"NATURE=ZZZZ"), "legacy", None,
             "lrm-alpha-nature (fallback with warning)"),
        Case("garbage", b"\x00" * 64, "legacy", None, "NUL bytes"),
        Case("garbage", b"=" * 1000, "legacy", None, "only separators"),
        Case("garbage", b"NUM_DOSSIER=" + b"A" * 60_000, "legacy", None, "60 kB case number"),
        Case("garbage", frame + b"\r\nNUM_DOSSIER=OTHER", "legacy", None, "key given twice"),
    ]
    return cases


def framing_cases(n: int, max_frame: int) -> list[Case]:
    """Byte streams for an STX/ETX link: oversize, noise around frames, frames cut by a new STX."""
    frame = demo_frame(n)
    return [
        Case("oversized-frame", STX + b"A" * (max_frame + 1) + ETX, "framing", None, "one byte over max_frame"),
        Case("oversized-frame", STX + b"A" * (4 * max_frame), "framing", None, "never-ending frame"),
        Case("stx-etx-noise", b"\xff\x00noise" + STX + frame[:50] + ETX + b"\x07\x08", "framing", None,
             "noise around a cut frame"),
        Case("stx-etx-noise", STX + frame[:80] + STX + b"\x00\x01" + ETX, "framing", None,
             "STX before ETX: cut frame then garbage frame"),
        Case("stx-etx-noise", STX + ETX, "framing", None, "empty frame"),
    ]


# ---------------------------------------------------------------------- seeded random mutations
def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random corruption of ``data``: truncate, flip, insert noise, duplicate or delete a slice."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    cut = rng.randrange(len(data))
    kind = rng.randrange(5)
    if kind == 0:
        return data[:cut]
    if kind == 1:
        flipped = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return bytes(flipped)
    if kind == 2:
        return data[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32))) + data[cut:]
    if kind == 3:
        end = min(len(data), cut + rng.randrange(1, 200))
        return data[:end] + data[cut:]
    return data[:cut] + data[cut + rng.randrange(1, 50):]


def random_hub_cases(rng: random.Random, count: int, first_n: int) -> Iterator[Case]:
    """Mutated valid Hub bodies (JSON and XML, createCase and EMSI answers), each from a unique base."""
    for i in range(count):
        content_type = JSON if i % 2 == 0 else XML
        base = valid_create_case(first_n + i, content_type) if i % 4 < 2 else valid_emsi_answer(first_n + i,
                                                                                                 content_type)
        yield Case(f"mutated-{'json' if content_type == JSON else 'xml'}", mutate(base, rng), "hub", content_type)


def random_legacy_cases(rng: random.Random, count: int, first_n: int) -> Iterator[Case]:
    """Mutated case sheets, and pure random bytes."""
    for i in range(count):
        if i % 4 == 3:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 512)))
            yield Case("random-bytes", data.replace(STX, b"").replace(ETX, b""), "legacy", None)
        else:
            yield Case("mutated-frame", mutate(demo_frame(first_n + i), rng), "legacy", None)


def random_stream_cases(rng: random.Random, count: int, first_n: int, max_frame: int) -> Iterator[Case]:
    """STX/ETX byte streams: frames, noise, and framing bytes sprinkled at random."""
    for i in range(count):
        parts = []
        for _ in range(rng.randrange(1, 4)):
            choice = rng.randrange(4)
            if choice == 0:
                parts.append(STX + mutate(demo_frame(first_n + i), rng).replace(STX, b"").replace(ETX, b"") + ETX)
            elif choice == 1:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 128))))
            elif choice == 2:
                parts.append(STX + b"Z" * rng.randrange(max_frame - 10, max_frame + 10))
            else:
                parts.append(rng.choice([STX, ETX, STX + ETX, ETX + STX]))
        yield Case("random-stream", b"".join(parts), "framing", None)


def all_fixed_cases(tmp_dir: Path, reference: Path | None, max_frame: int, n: int = 1000) -> list[Case]:
    """Every hand-written case (the corpus too when it is there)."""
    cases = corpus_cases(reference) if reference is not None else []
    return (cases + xml_attack_cases(tmp_dir) + json_attack_cases(n) + unknown_code_hub_cases(n + 10)
            + legacy_attack_cases(n + 20) + framing_cases(n + 30, max_frame))


def legacy_xml_attack_cases(good: bytes, tmp_dir: Path) -> list[Case]:
    """Hostile XML case sheets for a legacy-xml profile, built around one of its valid frames."""
    dtd = tmp_dir / "legacy-probe.dtd"
    dtd.write_bytes(b"not a DTD")
    body = good.split(b"?>", 1)[-1]
    return [
        Case("xxe", b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body.replace(
            b"</numero>", b"&e;</numero>", 1), "legacy", None, "external entity in a case sheet"),
        Case("xxe", f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE f SYSTEM "{dtd}">'.encode("utf-16-le")
             + body.decode("utf-8").encode("utf-16-le"), "legacy", None, "UTF-16 DOCTYPE naming a local file"),
        Case("entity-expansion", BILLION_LAUGHS.encode(), "legacy", None, "billion laughs"),
        Case("deep-nesting", b"<fiche1518>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</fiche1518>", "legacy", None,
             "10,000-deep"),
        Case("truncated-frame", good[: len(good) // 2], "legacy", None, "cut in half"),
        Case("wrong-encoding", good.decode("utf-8").replace("Fosse", "Fossé").encode("cp1252"), "legacy", None,
             "cp1252 bytes into a UTF-8 profile"),
        Case("wrong-encoding", good.decode("utf-8").encode("utf-16"), "legacy", None, "UTF-16 with BOM"),
        Case("garbage", good.replace(b"<numero>", b"<numero><script/>", 1), "legacy", None, "unexpected element"),
        Case("bad-date", good.replace(b"25/11/2026 10:00:00", b"31/02/2026 25:61:00", 1), "legacy", None,
             "31 February"),
    ]


def random_json_documents(rng: random.Random, depth: int = 0):
    """A random JSON value (dicts, lists, strings with odd characters, numbers of every size)."""
    kind = rng.randrange(7 if depth < 6 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**64, 10**300, 1.5e308, -0.0])
    if kind == 2:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x2FFF), 0])) for _ in
                       range(rng.randrange(0, 20)))
    if kind == 3:
        return rng.choice(["createCase", "emsi", "distributionID", "content", "#REPONSE_DEMANDE_CONCOURS#"])
    if kind in (4, 5):
        return {str(random_json_documents(rng, depth + 1))[:20]: random_json_documents(rng, depth + 1)
                for _ in range(rng.randrange(0, 5))}
    return [random_json_documents(rng, depth + 1) for _ in range(rng.randrange(0, 5))]


def valid_reference(referenced: str) -> bytes:
    """An RC-REF from the peer acknowledging ``referenced``."""
    message = wrap("reference", make_reference(referenced), sender_id=SDIS, recipient_id=SAMU, now=NOW,
                   message_uuid=uuid.uuid4(), kind="Ack")
    return encode_hub_body(message)


def valid_rs_error(referenced: str) -> bytes:
    """An RS-ERROR from the Hub refusing ``referenced``."""
    error = make_error(HubErrorCode.INVALID_MESSAGE, "schema says no", None, referenced)
    message = wrap("error", error, sender_id="fr.health.hub", recipient_id=SAMU, now=NOW,
                   message_uuid=uuid.uuid4(), kind="Error")
    return encode_hub_body(message)


def random_ack_info_cases(rng: random.Random, count: int) -> Iterator[Case]:
    """Mutated RC-REF bodies on the ack queue and RS-ERROR bodies on the info queue."""
    for i in range(count):
        referenced = f"{SAMU}_{uuid.UUID(int=rng.getrandbits(128))}"
        if i % 2 == 0:
            yield Case("mutated-rc-ref", mutate(valid_reference(referenced), rng), "hub-ack", JSON)
        else:
            yield Case("mutated-rs-error", mutate(valid_rs_error(referenced), rng), "hub-info", JSON)


# ---------------------------------------------------------------------- issue 12: trust at the edges
STRANGER = "fr.fire.nexsis.sdis29"  # a Hub client that is neither us nor our peer


def _hub_with_coordinate(n: int, raw_lat: str) -> bytes:
    """A createCase whose location carries ``raw_lat`` as the JSON number text of its latitude."""
    import json

    body = json.loads(hub_create_case(n))
    case = body["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["createCase"]
    case["location"]["geometry"] = {"datetime": "2026-11-25T10:00:00+01:00",
                                    "point": {"coord": {"lat": "__LAT__", "lon": 1.55, "precision": "EXACTE"}}}
    return json.dumps(body, separators=(",", ":")).replace('"__LAT__"', raw_lat).encode()


def _stranger_answer(campaign) -> bytes:
    """An EMSI answer to the request the bridge has just sent to SDIS 44, but sent by SDIS 29."""
    from bridge.refdata.hub_bodies import decode_hub_body

    n = next(campaign._numbers)
    campaign.rig.settled(campaign.rig.service.on_legacy_frame(good_frame(campaign.rig.profile, n, campaign._ctx)))
    campaign.rig.run(0.3)
    [request] = [m for m in campaign.rig.store.by_case(f"{SAMU}.DEMO-{n:06d}")
                 if m.direction.value == "out" and b'"emsi"' in (m.translated or b"")]
    message = decode_hub_body(request.translated, request.content_type)
    replies = replies_for(unwrap(message), PeerRules(own_id=STRANGER), now=NOW, new_uuid=lambda: str(uuid.uuid4()))
    [answer] = [r.message for r in replies if ANSWER_MARK in encode_hub_body(r.message)]
    return encode_hub_body(answer)


def _rs_error_body(referenced: str, cause: str) -> bytes:
    error = make_error(HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT, cause, None, referenced)
    return encode_hub_body(wrap("error", error, sender_id="fr.health.hub", recipient_id=SAMU, now=NOW,
                                message_uuid=uuid.uuid4(), kind="Error"))


def _xml_many_attributes(count: int) -> bytes:
    attrs = " ".join(f'a{i}="{i}"' for i in range(count))
    return f'<?xml version="1.0"?><edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0"><x {attrs}/>' \
           f"</edxlDistribution>".encode()


def _xml_namespace_levels(levels: int, per_level: int) -> bytes:
    opening = "".join("<e " + " ".join(f'xmlns:p{level}_{i}="urn:x:{level}:{i}"' for i in range(per_level)) + ">"
                      for level in range(levels))
    return (f'<?xml version="1.0"?><edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">{opening}'
            f'{"</e>" * levels}</edxlDistribution>').encode()


def trust_cases(n: int = 2000) -> list[Case]:
    """One case per class of issue 12: Hub peers, hand-over, addressing, numbers, shapes, file drop, HTTP, TCP.

    ``must_refuse`` marks inputs that taking (storing, applying, handing over) would be a defect.
    Classes whose fixes live in the core (long strings, numbers, XML shapes, STX runs, dates)
    are here too: the campaign tells whether the merged bridge closes them.
    """
    frame = demo_frame(n)
    good_line = b"APPELANT=Voisin"
    cases = [
        # Hub peers (as other clients through the dispatcher)
        Case("hub: STX/ETX in a note (hand-over)", hub_create_case(n, "avant \x02 milieu \x03 apres"), "hub", JSON,
             "createCase note with STX/ETX", must_refuse=True),
        Case("hub: misaddressed", hub_create_case(n + 1, recipient=STRANGER), "hub", JSON, "recipient is another",
             must_refuse=True),
        Case("hub: spoofed sender", hub_create_case(n + 2, sender=SAMU), "hub", JSON, "claims to be us",
             must_refuse=True),
        Case("hub: spoofed sender", hub_create_case(n + 3, envelope_sender=STRANGER), "hub", JSON,
             "envelope and header disagree", must_refuse=True),
        Case("hub: wrong queue", hub_create_case(n + 4), "hub-ack", JSON, "createCase on .ack", must_refuse=True),
        Case("hub: wrong queue", hub_create_case(n + 5), "hub-info", JSON, "createCase on .info", must_refuse=True),
        Case("hub: wrong queue", valid_reference(f"{SAMU}_{uuid.uuid4()}"), "hub", JSON, "RC-REF on .message",
             must_refuse=True),
        Case("hub: wrong queue", valid_rs_error(f"{SAMU}_{uuid.uuid4()}"), "hub", JSON, "RS-ERROR on .message",
             must_refuse=True),
        Case("hub: answer from a stranger", b"", "hub", JSON, "EMSI answer from a client we did not ask",
             must_refuse=True, prepare=_stranger_answer),
        Case("hub: RS-ERROR naming nothing", _rs_error_body("", "unreadable body"), "hub-info", JSON,
             "no referencedDistributionID"),
        # long strings (the redaction regex, w12a)
        Case("long strings", _rs_error_body(f"{SAMU}_{uuid.uuid4()}", "A" * 200_000), "hub-info", JSON,
             "200 kB errorCause"),
        Case("long strings", frame.replace(good_line, b"APPELANT=" + b"A" * 200_000), "legacy", None,
             "200 kB legacy field"),
        Case("long strings", frame.replace(b"DATE_APPEL=20261125100000", b"DATE_APPEL=hier" + b"x" * 30_000), "legacy",
             None, "30 kB bad date (quoted in the dead-letter log line)"),
        Case("long strings", b"/" + b"a" * 200_000, "http", None, "GET 200 kB path"),
        Case("long strings", b"/" + b"a" * 15_000, "http", None, "GET 15 kB path"),
        # numbers (w12a)
        *[Case("numbers", _hub_with_coordinate(n + 10 + i, raw), "hub", JSON, f"Hub latitude {raw}",
               must_refuse=True) for i, raw in enumerate(("1e-999999999", "NaN", "Infinity", "999"))],
        *[Case("numbers", frame.replace(b"INSEE=44109", b"INSEE=44109\r\nLAT=" + raw + b"\r\nLON=-1.55"), "legacy",
               None, f"legacy LAT={raw.decode()}", must_refuse=True)
          for raw in (b"1e-999999999", b"nan", b"inf", b"999")],
        # XML shapes that cost the full-error pass minutes (w12a)
        Case("xml shapes", _xml_many_attributes(2000), "hub", XML, "2,000 attributes on one element",
             must_refuse=True),
        Case("xml shapes", _xml_namespace_levels(40, 100), "hub", XML, "40 levels x 100 namespace declarations",
             must_refuse=True),
        # framing and dates (w12a)
        Case("framing: STX run", STX * 100_000, "framing", None, "100,000 STX bytes"),
        Case("dates", frame.replace(b"DATE_APPEL=20261125100000", b"DATE_APPEL=99991231235959"), "legacy", None,
             "year 9999", must_refuse=True),
        # file drop
        *[Case("file drop: not a plain file", b"", "file", None, kind, must_refuse=True)
          for kind in ("symlink:/etc/passwd", "symlink:/proc/self/environ", "symlink:/proc/self/mem", "fifo",
                       "hardlink")],
        Case("file drop: long names", frame.replace(b"DEMO-", b"LONG1-"), "file", None, "long-name:250"),
        Case("file drop: long names", frame.replace(b"DEMO-", b"LONG2-"), "file", None, "long-name:255"),
        Case("file drop: half-written", frame.replace(b"DEMO-", b"HALF-"), "file", None, "two-part"),
        Case("file drop: garbage", b"\x00\xff" * 100, "file", None, "binary garbage"),
        # HTTP
        *[Case("http: ids", target, "http", None, "GET") for target in (
            b"/api/messages/" + b"9" * 30, b"/api/messages/" + b"9" * 5000, b"/api/messages?limit=" + b"9" * 5000,
            b"/api/messages/%D9%A1", b"/api/messages/-1")],
        Case("http: ids", b"/api/dlq/" + b"9" * 40 + b"/replay", "http", None, "POST"),
        Case("http: secrets in URLs", b"/healthz?token=HOSTILE-SECRET-7f3a", "http", None, "GET"),
        Case("http: secrets in URLs", b"/api/summary?replay_token=HOSTILE-SECRET-7f3a&limit=3", "http", None, "GET"),
        # legacy TCP
        Case("tcp: garbage flood", b"".join(STX + b"G%06d" % i + ETX for i in range(12_000)), "tcp", None,
             "flood", must_refuse=True),
        Case("tcp: intruder", b"".join(STX + b"NOISE%d" % i + ETX for i in range(5)), "tcp", None, "intruder",
             must_refuse=True),
        Case("tcp: STX run", STX * 100_000, "tcp", None, "stream"),
    ]
    return cases
