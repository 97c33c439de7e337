"""The redfish meter against real HTTP(S) servers started on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.discovery import discover, open_spec
from bench.power.meters import redfish
from bench.power.sampler import Sampler

CHASSIS = "/redfish/v1/Chassis/1"


def chassis(*links: str) -> dict[str, Any]:
    """A chassis resource (as a BMC serves it) linking to the named sub-resources."""
    doc: dict[str, Any] = {"@odata.id": CHASSIS, "@odata.type": "#Chassis.v1_25_1.Chassis", "Id": "1",
                           "Name": "Computer System Chassis", "ChassisType": "RackMount", "PowerState": "On"}
    for link in links:
        doc[link] = {"@odata.id": f"{CHASSIS}/{link}"}
    return doc


ENVIRONMENT = {"@odata.type": "#EnvironmentMetrics.v1_3_1.EnvironmentMetrics", "Id": "EnvironmentMetrics",
               "PowerWatts": {"Reading": 374, "DataSourceUri": f"{CHASSIS}/Sensors/TotalPower"},
               "TemperatureCelsius": {"Reading": 39}}
SENSORS = {"@odata.type": "#SensorCollection.SensorCollection", "Members@odata.count": 3,
           "Members": [{"@odata.id": f"{CHASSIS}/Sensors/{s}"} for s in ("CPU1Temp", "PS1InputPower", "TotalPower")]}
SENSOR_DOCS = {
    "CPU1Temp": {"Id": "CPU1Temp", "ReadingType": "Temperature", "Reading": 39, "ReadingUnits": "C",
                 "PhysicalContext": "CPU"},
    "PS1InputPower": {"Id": "PS1InputPower", "ReadingType": "Power", "Reading": 190.5, "ReadingUnits": "W",
                      "PhysicalContext": "PowerSupply"},
    "TotalPower": {"@odata.type": "#Sensor.v1_8_0.Sensor", "Id": "TotalPower", "ReadingType": "Power",
                   "Reading": 381.0, "ReadingUnits": "W", "PhysicalContext": "Chassis", "Accuracy": 2,
                   "SensingInterval": "PT0.5S", "ReadingTime": "2026-11-25T13:00:00Z"},
}
LEGACY_POWER = {"@odata.type": "#Power.v1_7_1.Power", "Id": "Power",
                "PowerControl": [{"MemberId": "0", "Name": "System Power Control", "PowerConsumedWatts": 344,
                                  "PowerMetrics": {"IntervalInMin": 1, "AverageConsumedWatts": 340}}]}


class Handler(BaseHTTPRequestHandler):
    server: FakeBmc

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        bmc = self.server
        time.sleep(bmc.delay_s)
        if bmc.auth and self.headers.get("Authorization") != bmc.auth:
            self._send(401, b'{"error": "unauthorised"}')
            return
        route = bmc.routes.get(self.path)
        if route is None:
            self._send(404, b'{"error": "not found"}')
        else:
            self._send(200, route if isinstance(route, bytes) else json.dumps(route).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeBmc(ThreadingHTTPServer):
    """A Redfish service on 127.0.0.1: routes, optional basic auth, optional delay."""

    daemon_threads = True

    def __init__(self, routes: dict[str, Any], tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes
        self.auth: str | None = None
        self.delay_s = 0.0
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out closed its end: the late answer's broken pipe is expected

    def url(self, path: str = CHASSIS) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}{path}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[FakeBmc] = []

    def start(routes: dict[str, Any], tls: ssl.SSLContext | None = None) -> FakeBmc:
        servers.append(FakeBmc(routes, tls))
        return servers[-1]

    yield start
    for s in servers:
        s.delay_s = 0.0
        s.stop()


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDFISH_USER", raising=False)
    monkeypatch.delenv("REDFISH_PASSWORD", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


def only(arg: str) -> redfish.RedfishMeter:
    (meter,) = open_spec(f"redfish:{arg}")
    assert isinstance(meter, redfish.RedfishMeter)
    meter.close()
    return meter


def test_environment_metrics_power_watts_preferred(serve: Any) -> None:
    bmc = serve({CHASSIS: chassis("EnvironmentMetrics", "Sensors", "Power"),
                 f"{CHASSIS}/EnvironmentMetrics": ENVIRONMENT, f"{CHASSIS}/Power": LEGACY_POWER})
    meter = only(bmc.url())
    assert (meter.scope, meter.method, meter.kind) == ("node", "polled", "redfish")
    assert meter.name == f"redfish:127.0.0.1:{bmc.server_address[1]}"
    assert meter.source.label == "EnvironmentMetrics PowerWatts"
    assert meter.read().power_w == 374.0
    assert meter.update_period_s == 1.0 and "assumed" in meter.accuracy_note and "within 5%" in meter.accuracy_note


def test_chassis_power_sensor_with_its_interval_and_accuracy(serve: Any) -> None:
    routes: dict[str, Any] = {CHASSIS: chassis("Sensors", "Power"), f"{CHASSIS}/Sensors": SENSORS,
                              f"{CHASSIS}/Power": LEGACY_POWER}
    routes.update({f"{CHASSIS}/Sensors/{k}": v for k, v in SENSOR_DOCS.items()})
    meter = only(serve(routes).url())
    assert meter.source.resource == f"{CHASSIS}/Sensors/TotalPower"  # not the PSU's own sensor
    assert meter.read().power_w == 381.0
    assert meter.update_period_s == 0.5 and meter.accuracy == pytest.approx(0.02)


def test_legacy_power_control_when_nothing_newer(serve: Any) -> None:
    bmc = serve({CHASSIS: chassis("Power"), f"{CHASSIS}/Power": LEGACY_POWER})
    meter = only(bmc.url())
    assert meter.source.label == "Power PowerControl[0].PowerConsumedWatts"
    assert meter.read().power_w == 344.0


def test_basic_auth_from_the_environment(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bmc = serve({CHASSIS: chassis("Power"), f"{CHASSIS}/Power": LEGACY_POWER})
    bmc.auth = "Basic " + base64.b64encode(b"admin:pa55").decode()
    with pytest.raises(MeterUnavailable, match=r"unauthorised \(HTTP 401\): set REDFISH_USER and REDFISH_PASSWORD"):
        open_spec(f"redfish:{bmc.url()}")
    monkeypatch.setenv("REDFISH_USER", "admin")
    monkeypatch.setenv("REDFISH_PASSWORD", "wrong")
    with pytest.raises(MeterUnavailable, match="the BMC refused REDFISH_USER/REDFISH_PASSWORD"):
        open_spec(f"redfish:{bmc.url()}")
    monkeypatch.setenv("REDFISH_PASSWORD", "pa55")
    assert only(bmc.url()).read().power_w == 344.0


@pytest.mark.parametrize(
    ("routes", "path", "needle"),
    [
        ({}, "/redfish/v1/Chassis/9", "not found (HTTP 404): not a Redfish chassis URL"),
        ({"/redfish/v1": {"@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", "Chassis": {"@odata.id": "/x"}}},
         "/redfish/v1", "is not a Redfish chassis"),
        ({CHASSIS: b"<html>BMC login</html>"}, CHASSIS, "not JSON (malformed Redfish response)"),
        ({CHASSIS: [1, 2]}, CHASSIS, "not a JSON object"),
        ({CHASSIS: chassis("Power"), f"{CHASSIS}/Power": {"PowerControl": [{"PowerConsumedWatts": None}]}}, CHASSIS,
         "offers no chassis power reading"),
    ],
)
def test_wrong_url_or_malformed_answers_are_one_line(serve: Any, routes: dict[str, Any], path: str,
                                                     needle: str) -> None:
    bmc = serve(routes)
    with pytest.raises(UsageError) as exc:
        discover([f"redfish:{bmc.url(path)}"])
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_unreachable_bmc(serve: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MeterUnavailable, match=rf"connection refused \(BMC unreachable at 127.0.0.1:{port}\)"):
        open_spec(f"redfish:http://127.0.0.1:{port}{CHASSIS}")


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("redfish", "needs the chassis URL"),
        ("redfish:bmc/redfish/v1/Chassis/1", "is not an http(s) URL"),
        ("redfish:https://bmc/redfish/v1/Chassis/1,verify=no", "option 'verify' not understood"),
        ("redfish:https://bmc/redfish/v1/Chassis/1,timeout=soon", "timeout='soon' is not a number"),
    ],
)
def test_bad_meter_arguments(arg: str, needle: str) -> None:
    with pytest.raises(UsageError) as exc:  # refused by the spec's grammar before anything is asked
        open_spec(arg)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 and a server context using it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-bmc")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    root = tmp_path_factory.mktemp("tls")
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(root / "cert.pem", root / "key.pem")
    return root / "cert.pem", ctx


def test_tls_verified_by_default_with_explicit_opt_out(
    serve: Any, self_signed: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, ctx = self_signed
    bmc = serve({CHASSIS: chassis("Power"), f"{CHASSIS}/Power": LEGACY_POWER}, tls=ctx)
    with pytest.raises(MeterUnavailable) as exc:
        open_spec(f"redfish:{bmc.url()}")
    assert "TLS certificate not trusted (self-signed certificate)" in str(exc.value)
    assert "add ',insecure' to the meter (redfish:URL,insecure)" in str(exc.value)
    insecure = only(bmc.url() + ",insecure")
    assert insecure.read().power_w == 344.0 and "TLS certificate NOT verified" in insecure.accuracy_note
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the BMC's CA trusted: verified, no opt-out needed
    verified = only(bmc.url())
    assert verified.read().power_w == 344.0 and "NOT verified" not in verified.accuracy_note


def test_bmc_that_stops_answering_mid_run_leaves_gaps_not_zeros(serve: Any) -> None:
    power = json.loads(json.dumps(LEGACY_POWER))
    bmc = serve({CHASSIS: chassis("Power"), f"{CHASSIS}/Power": power})
    (meter,) = discover([f"redfish:{bmc.url()},timeout=0.2"])[0]
    meter.update_period_s = 0.05  # a fast fake BMC keeps the test short
    sampler = Sampler([meter], rate_hz=50)
    log = sampler.logs[meter.name]

    def wait_until(what: str, cond: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60  # each step ends on its event, however loaded the machine
        while not cond():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)

    sampler.start()
    wait_until("first readings", lambda: len(log.readings) >= 3)
    bmc.delay_s = 1.0  # hangs: every fetch times out
    wait_until("a gap", lambda: len(log.gaps) >= 1)
    bmc.delay_s = 0.0
    power["PowerControl"][0]["PowerConsumedWatts"] = 350
    wait_until("the BMC answering again", lambda: any(r.power_w == 350.0 for r in log.readings[-3:]))
    sampler.stop()
    powers = [r.power_w for r in log.readings]
    assert powers[0] == 344.0 and powers[-1] == 350.0 and 0.0 not in powers
    assert log.gaps and all("no answer" in g.reason for g in log.gaps)
    power["PowerControl"][0]["PowerConsumedWatts"] = None
    with pytest.raises(MeterReadError, match="PowerConsumedWatts is missing or null"):
        meter.fetch()
    bmc.stop()
    with pytest.raises(MeterReadError, match="connection refused"):
        meter.fetch()
