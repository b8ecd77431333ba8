"""Settings of the Hub client (embedded by ``bridge.runtime.config``); frozen and validated once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ContentType = Literal["application/json", "application/xml"]


class AmqpConnectionSettings(BaseModel):
    """Where and how to connect: TLS with a client certificate (EXTERNAL) or PLAIN on loopback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(5671, ge=1, le=65535)
    vhost: str = "/15-nexsis_v1.9"
    tls: bool = True
    ca_cert: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_hostname: str | None = None  # name checked in the server certificate; default: host
    username: str | None = None  # PLAIN login (emulator's admin link); None -> SASL EXTERNAL
    password: str | None = None
    heartbeat: int = Field(30, ge=0)
    connect_timeout: float = Field(15.0, gt=0)
    reconnect_initial: float = Field(1.0, gt=0)
    reconnect_max: float = Field(60.0, gt=0)
    reconnect_attempts: int | None = Field(None, ge=0)  # None: retry for ever

    @model_validator(mode="after")
    def _tls_needs_certificates(self) -> AmqpConnectionSettings:
        if self.tls and self.username is None and not (self.ca_cert and self.cert and self.key):
            raise ValueError("TLS with SASL EXTERNAL needs ca_cert, cert and key")
        if not self.tls and self.username is None:
            raise ValueError("without TLS a username/password (PLAIN) is required")
        return self


class HubClientSettings(AmqpConnectionSettings):
    """One Hub client: its ID (certificate CN = routing key), format and flow control."""

    client_id: str = Field(min_length=3)
    content_type: ContentType = "application/json"
    prefetch: int = Field(10, ge=1, le=1000)
    exchange: str = "hubsante"
    shutdown_timeout: float = Field(30.0, gt=0)
