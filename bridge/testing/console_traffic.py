"""A store filled with a believable hour of traffic, for the console's browser tests and screenshots.

Frames of the ``lrm-alpha-text`` dialect go through the real translator
(:class:`bridge.app.translator.PipelineTranslator`) and the real store
transitions, at times spread over the last hour: published, RC-REF'd, some
answered, a few refused (dead letters), a few Hub messages from the fire
service handed over and acknowledged. One frame carries markup in its
free text, so the pages are checked against injection with real content.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.app.records import Translation, translation_notes
from bridge.core.delivery import Direction
from bridge.core.edxl import wrap
from bridge.core.errors import BridgeError
from bridge.edges.store import Store
from bridge.refdata.hub_bodies import encode_hub_body

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
PROFILE = "lrm-alpha-text"
HOSTILE_TEXT = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
NATURES = ["MAL", "CHUT", "AVP", "GAZ", "ACR", "INCH", "DETR", "NOY", "ZZZ"]  # ZZZ: unmapped, uses the fallback
TEMPLATE = (
    "NUM_DOSSIER={dossier}\nDATE_APPEL={stamp}\nNATURE={nature}\nLIEU=DOM\nMOTIF=MALAISE\nNB_VICTIMES=V1\n"
    "TYPE_VICTIME=ADU\nNUMERO={number}\nVOIE=Rue des Marins\nCOMMUNE=Bouaye\nINSEE=44018\nAPPELANT=Marie Dubois\n"
    "TEL=+33671830523\nQUALITE_APPELANT=FAM\nOBS={obs}\nVICT1_NOM=Dubois\nVICT1_PRENOM=Paul\nVICT1_SEXE=M\n"
    "VICT1_AGE=54\n"
)
ASSISTANCE = "DEMANDE_SP=O\nTYPE_CONCOURS=REL\nMOTIF_CONCOURS=Relevage\nMOYEN=VSAV\n"


@dataclass
class Traffic:
    """What :func:`fill_store` wrote, so tests can point at it."""

    case_ids: list[str] = field(default_factory=list)
    dossiers: list[str] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    hostile_message_id: int | None = None
    inbound_ids: list[int] = field(default_factory=list)
    dead_letters: list[int] = field(default_factory=list)


def frame(dossier: str, nature: str, at: datetime, *, obs: str = "Appel pour malaise", assistance: bool = False,
          number: int = 3) -> bytes:
    """One ``lrm-alpha-text`` case sheet."""
    text = TEMPLATE.format(dossier=dossier, stamp=at.strftime("%Y%m%d%H%M%S"), nature=nature, number=number, obs=obs)
    return (text + (ASSISTANCE if assistance else "DEMANDE_SP=N\n")).encode("cp1252", errors="replace")


def make_translator(clock: Any) -> Any:
    """The live translator of a bridge running the ``lrm-alpha-text`` profile with the shipped tables."""
    from bridge.app.translator import LiveMappings, PipelineTranslator
    from bridge.refdata.profiles import build_context, load_profile

    ctx = build_context(sender_id=SAMU, recipient_id=SDIS)
    tables = ctx.mappings
    ctx = ctx.__class__(**{**ctx.__dict__, "mappings": LiveMappings(lambda: tables)})
    return PipelineTranslator(load_profile(PROFILE), ctx, clock=clock)


def _wrap(item: Any, at: datetime, sender: str, recipient: str) -> tuple[str, bytes]:
    message_uuid = str(uuid.UUID(int=random.getrandbits(128)))
    distribution_id = f"{sender}_{message_uuid}"
    payload = item.payload
    if item.name == "emsi":
        payload = {**payload, "CONTEXT": {**payload["CONTEXT"], "ID": distribution_id}}
    message = wrap(item.name, payload, sender_id=sender, recipient_id=recipient, now=at, message_uuid=message_uuid)
    return distribution_id, encode_hub_body(message)


def fill_store(store: Store, now: datetime, *, cases: int = 40, seed: int = 7, translator: Any = None) -> Traffic:
    """About ``cases`` case sheets over the hour before ``now``, with their Hub lives; returns what was made.

    ``translator`` (a :func:`make_translator`) lets the caller keep its usage counts for the console.
    """
    rng = random.Random(seed)
    random.seed(seed)
    clock_value = [now]
    translator = translator or make_translator(lambda: clock_value[0])
    translator.clock = lambda: clock_value[0]
    traffic = Traffic()
    offsets = sorted((rng.uniform(60, 3500) for _ in range(cases)), reverse=True)
    for n, offset in zip(itertools.count(1), offsets, strict=False):
        at = now - timedelta(seconds=offset)
        clock_value[0] = at
        dossier = f"A26-{n:06d}"
        nature = NATURES[n % len(NATURES)]
        hostile = n == 3
        data = frame(dossier, nature, at, obs=HOSTILE_TEXT if hostile else "Appel du voisin, personne au sol",
                     assistance=n % 4 == 0, number=n)
        if n == 8:  # a field the dialect does not know: translated without it, a declared drop
            data += b"CODE_POSTAL=44830\n"
        if n % 13 == 5:  # a frame the dialect refuses: straight to the dead letters, original bytes kept
            data = data.replace(b"NUM_DOSSIER=", b"NUM_DOSSIER_BAD=")
        try:
            items = translator.to_hub(data)
        except BridgeError as exc:
            first = exc.issues[0] if exc.issues else None
            traffic.dead_letters.append(store.dead_letter(
                data, error=str(exc), error_path=first.path if first else None, source="translation", at=at,
                direction=Direction.OUT,
                adapter="legacy-text", profile=PROFILE))
            continue
        translations = []
        for item in items:
            distribution_id, body = _wrap(item, at, SAMU, SDIS)
            translations.append(Translation(body, distribution_id, case_id=item.case_id, case_version=item.case_version,
                                            notes=translation_notes(item.mapped, item.dropped, item.warnings)))
        ids = store.accept_translated(data, translations, adapter="legacy-text", profile=PROFILE, received_at=at)
        traffic.case_ids.append(items[0].case_id)
        traffic.dossiers.append(dossier)
        traffic.message_ids += ids
        if hostile:
            traffic.hostile_message_id = ids[0]
        for message_id, translation in zip(ids, translations, strict=True):
            published = at + timedelta(milliseconds=rng.uniform(20, 90))
            store.mark_published(message_id, at=published, rcref_deadline=published + timedelta(seconds=30))
            if n % 11 == 7:
                continue  # still waiting for its RC-REF
            store.mark_delivered(translation.distribution_id,
                                 at=published + timedelta(milliseconds=rng.uniform(150, 400 + 40 * (n % 6) ** 2)))
        if n % 4 == 0 and len(items) > 1:  # the fire service answers the assistance request
            store.mark_answered(translations[1].distribution_id, at=at + timedelta(seconds=rng.uniform(20, 50)),
                                detail="EMSI answer received")
        if n % 6 == 2:  # the fire service shares a case of its own: received, handed to the LRM, acknowledged
            received_at = at + timedelta(seconds=rng.uniform(5, 40))
            case = {**items[0].payload, "caseId": f"{SDIS}.{rng.randrange(10**6, 10**7)}",
                    "senderCaseId": f"S{n:05d}"}
            message = wrap("createCase", case, sender_id=SDIS, recipient_id=SAMU, now=received_at,
                           message_uuid=str(uuid.UUID(int=rng.getrandbits(128))))
            inbound, _ = store.record_inbound(encode_hub_body(message), distribution_id=message["distributionID"],
                                              case_id=case["caseId"], case_version=None, received_at=received_at,
                                              adapter="hub", content_type="application/json")
            store.mark_inbound_handed_over(inbound, at=received_at + timedelta(milliseconds=rng.uniform(20, 60)))
            store.mark_inbound_acked(inbound, at=received_at + timedelta(milliseconds=rng.uniform(70, 120)),
                                     rcref_distribution_id=f"{SAMU}_{uuid.UUID(int=rng.getrandbits(128))}")
            traffic.inbound_ids.append(inbound)
    return traffic
