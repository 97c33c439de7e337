"""A Redfish BMC on 127.0.0.1 serving a chassis' thermal resources, the legacy ``Thermal`` and the newer
``ThermalSubsystem``/``ThermalMetrics`` with its Sensors, laid out as DMTF's public mockups lay them out
(the figures are the fake's own). :meth:`FakeBmc.set` changes the air temperatures while a run goes on;
every answer is built from them at the moment it is served."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHASSIS = "/redfish/v1/Chassis/1U"


class Handler(BaseHTTPRequestHandler):
    server: FakeBmc

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.server.answer(self.path)
        status = 200 if body is not None else 404
        data = json.dumps(body if body is not None else {"error": "not found"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeBmc(ThreadingHTTPServer):
    """``legacy``: the chassis links ``Thermal`` only; ``subsystem``: ``ThermalSubsystem`` only; both: both."""

    daemon_threads = True

    def __init__(self, legacy: bool = True, subsystem: bool = True, context: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.legacy, self.subsystem, self.context = legacy, subsystem, context
        self.lock = threading.Lock()
        self.inlet, self.exhaust, self.ambient, self.fan_rpm = 24.8, 40.5, 22.0, 8400
        self.requests: list[str] = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = CHASSIS) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def set(self, inlet: float, exhaust: float | None = None) -> None:
        with self.lock:
            self.inlet = inlet
            if exhaust is not None:
                self.exhaust = exhaust

    def answer(self, path: str) -> dict[str, Any] | None:
        with self.lock:
            self.requests.append(path)
            return self._resources().get(path)

    def _resources(self) -> dict[str, Any]:
        chassis: dict[str, Any] = {"@odata.id": CHASSIS, "@odata.type": "#Chassis.v1_21_0.Chassis", "Id": "1U",
                                   "Name": "Computer System Chassis", "ChassisType": "RackMount"}
        out: dict[str, Any] = {CHASSIS: chassis}
        if self.legacy:
            chassis["Thermal"] = {"@odata.id": f"{CHASSIS}/Thermal"}
            intake: dict[str, Any] = {"MemberId": "1", "Name": "Chassis Intake Temp", "SensorNumber": 2,
                                      "Status": {"State": "Enabled", "Health": "OK"}, "ReadingCelsius": self.inlet,
                                      "UpperThresholdNonCritical": 35, "UpperThresholdCritical": 40,
                                      "UpperThresholdFatal": 50}
            exhaust: dict[str, Any] = {"MemberId": "2", "Name": "System Board Exhaust Temp", "ReadingCelsius": self.exhaust}
            if self.context:
                intake["PhysicalContext"], exhaust["PhysicalContext"] = "Intake", "Exhaust"
            out[f"{CHASSIS}/Thermal"] = {
                "@odata.type": "#Thermal.v1_7_0.Thermal", "Id": "Thermal", "Name": "Thermal",
                "Temperatures": [{"MemberId": "0", "Name": "CPU1 Temp", "ReadingCelsius": 62,
                                  "UpperThresholdCritical": 95, "PhysicalContext": "CPU"}, intake, exhaust],
                "Fans": [{"MemberId": "0", "Name": "BaseBoard System Fan", "Reading": self.fan_rpm,
                          "ReadingUnits": "RPM", "PhysicalContext": "Backplane"},
                         {"MemberId": "1", "Name": "PSU Fan", "Reading": 45, "ReadingUnits": "Percent"}],
            }
        if self.subsystem:
            chassis["ThermalSubsystem"] = {"@odata.id": f"{CHASSIS}/ThermalSubsystem"}
            sensors = f"{CHASSIS}/Sensors"
            out[f"{CHASSIS}/ThermalSubsystem"] = {
                "@odata.type": "#ThermalSubsystem.v1_0_0.ThermalSubsystem", "Id": "ThermalSubsystem",
                "ThermalMetrics": {"@odata.id": f"{CHASSIS}/ThermalSubsystem/ThermalMetrics"},
                "Fans": {"@odata.id": f"{CHASSIS}/ThermalSubsystem/Fans"}}
            out[f"{CHASSIS}/ThermalSubsystem/ThermalMetrics"] = {
                "@odata.type": "#ThermalMetrics.v1_0_0.ThermalMetrics", "Id": "ThermalMetrics",
                "TemperatureSummaryCelsius": {
                    "Internal": {"Reading": 39, "DataSourceUri": f"{sensors}/CPU1Temp"},
                    "Intake": {"Reading": self.inlet, "DataSourceUri": f"{sensors}/IntakeTemp"},
                    "Exhaust": {"Reading": self.exhaust, "DataSourceUri": f"{sensors}/ExhaustTemp"}},
                "TemperatureReadingsCelsius": [
                    {"DeviceName": "Room", "PhysicalContext": "Room", "Reading": self.ambient,
                     "DataSourceUri": f"{sensors}/RoomTemp"},
                    {"DeviceName": "CPU1", "PhysicalContext": "CPU", "Reading": 62}],
            }
            out[f"{sensors}/IntakeTemp"] = {
                "@odata.type": "#Sensor.v1_2_0.Sensor", "Id": "IntakeTemp", "ReadingType": "Temperature",
                "Reading": self.inlet, "ReadingUnits": "Cel", "PhysicalContext": "Intake",
                "Thresholds": {"UpperCaution": {"Reading": 35}, "UpperCritical": {"Reading": 42},
                               "UpperFatal": {"Reading": 50}}}
        return out

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
