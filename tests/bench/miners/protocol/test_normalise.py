"""Each firmware's replies become one normalised poll: counter, chips per board, power, stability."""

from __future__ import annotations

import pytest

from bench.miners.protocol import cgminer, whatsminer
from bench.miners.protocol.model import Identity
from bench.miners.protocol.parse import BadReply

S = [{"STATUS": "S", "Msg": "ok"}]


def ident(family: str, model: str) -> Identity:
    return Identity("10.0.0.5", 4028, "cgminer", family, "Bitmain", model, "fw")


def stock_s19(**summary: object) -> dict[str, object]:
    stats = {"STATS": 0, "ID": "BC50", "miner_count": 3, "fan_num": 4, "fan1": 5400, "fan2": 5430, "fan3": 0,
             "fan4": 5490, "total_rateideal": 110000.0, "rate_unit": "GH",
             "chain_acn1": 114, "chain_acn2": 100, "chain_hw1": 3, "chain_hw2": 7, "chain_rate1": "36666.67",
             "chain_rate2": "32000.00", "temp_pcb1": "50-51-62-0", "temp_chip1": "65-66-77-78", "temp1": 60, "temp2_2": 74}
    return {"summary": {"STATUS": S, "SUMMARY": [{"Elapsed": 3600, "GHS 5s": "108000.12", "GHS av": 107500.55,
                                                   "Total MH": 3.87e11, "Accepted": 90, "Rejected": 1, "Stale": 0,
                                                   "Difficulty Accepted": 92160.0, "Difficulty Rejected": 1024.0,
                                                   "Hardware Errors": 10, **summary}]},
            "stats": {"STATUS": S, "STATS": [{"BMMiner": "1.0.0", "Type": "Antminer S19 Pro"}, stats]},
            "pools": {"STATUS": S, "POOLS": [{"POOL": 0, "Accepted": 90, "Difficulty Accepted": 92160.0}]}}


def test_stock_antminer_counter_boards_and_a_board_that_vanished() -> None:
    p = cgminer.normalise(ident("antminer", "Antminer S19 Pro"), stock_s19(), 1.0, 2.0)
    assert p.counter is not None and p.counter.source == "Total MH"
    assert p.counter.hashes == pytest.approx(3.87e17, rel=1e-12)  # 3.87e11 MH in H
    assert p.rates_hs["5s"] == pytest.approx(1.0800012e14) and p.rates_hs["nominal"] == pytest.approx(1.1e14)
    assert p.accepted_difficulty == 92160.0 and p.rejected_difficulty == 1024.0 and p.shares == 91 and p.hw_errors == 10
    assert p.power_w is None and p.fans_rpm == (5400, 5430, 5490) and p.elapsed_s == 3600
    assert [b.chips for b in p.boards] == [114, 100, 0], "the third board is missing: 0 chips"
    assert [b.chips_missing for b in p.boards] == [0, 14, 114] and p.chips == 214 and p.chips_expected == 342
    assert p.boards[0].temp_board_c == 62 and p.boards[0].temp_chip_c == 78 and p.boards[1].temp_chip_c == 74
    assert p.boards[1].hashrate_hs == pytest.approx(3.2e13) and p.boards[1].hw_errors == 7


def test_without_total_mh_the_counter_is_the_average_times_elapsed_with_its_resolution() -> None:
    replies = stock_s19(**{"Total MH": None})
    del replies["summary"]["SUMMARY"][0]["Total MH"]  # type: ignore[index]
    p = cgminer.normalise(ident("antminer", "Antminer S19 Pro"), replies, 1.0, 2.0)
    assert p.counter is not None and p.counter.source == "GHS av x Elapsed"
    assert p.counter.hashes == pytest.approx(107500.55e9 * 3600)
    assert p.counter.resolution == pytest.approx(107500.55e9 * 1 + 0.005e9 * 3600), "one second of Elapsed + rounding"


def test_braiins_power_chips_and_the_tuner_as_stability_flag() -> None:
    replies = {
        "summary": {"STATUS": S, "SUMMARY": [{"Elapsed": 100, "MHS 5s": 1.1e8, "MHS av": 1.1e8, "Total MH": 1.1e10}]},
        "devs": {"STATUS": S, "DEVS": [{"ID": 6, "MHS 5s": 3.6e7, "Hardware Errors": 2}, {"ID": 7, "MHS 5s": 3.7e7}]},
        "devdetails": {"STATUS": S, "DEVDETAILS": [{"ID": 6, "Chips": 114}, {"ID": 7, "Chips": 110}]},
        "temps": {"STATUS": S, "TEMPS": [{"ID": 6, "Board": 55.0, "Chip": 71.0}]},
        "fans": {"STATUS": S, "FANS": [{"ID": 0, "RPM": 4100}, {"ID": 1, "RPM": 0}]},
        "tunerstatus": {"STATUS": S, "TUNERSTATUS": [{"ApproximateMinerPowerConsumption": 3180,
                                                      "TunerChainStatus": [{"Status": "Stable"},
                                                                           {"Status": "Tuning individual chips"}]}]},
    }
    p = cgminer.normalise(ident("braiins", "Antminer S19 Pro"), replies, 1.0, 2.0)
    assert p.power_w == 3180 and p.power_source == "tunerstatus ApproximateMinerPowerConsumption"
    assert p.stable is False and [b.chips for b in p.boards] == [114, 110, 0] and p.boards[0].temp_chip_c == 71.0
    assert p.fans_rpm == (4100,) and p.boards[0].hw_errors == 2


def test_luxos_power_and_avalon_wall_power_from_the_bracket_string() -> None:
    lux = stock_s19()
    lux["power"] = {"STATUS": S, "POWER": [{"Watts": 3222}]}
    assert cgminer.normalise(ident("luxos", "Antminer S19 Pro"), lux, 1.0, 2.0).power_w == 3222
    mm = "Ver[1366-22] Elapsed[10] TMax[88] TAvg[71] Fan1[5100] Fan2[0] GHSmm[130000.00] WALLPOWER[3301] PS[0 1210]"
    avalon = {"summary": {"STATUS": S, "SUMMARY": [{"Elapsed": 10, "MHS av": 1.3e8, "Total MH": 1.3e9}]},
              "estats": {"STATUS": S, "STATS": [{"ID": "AVA100", "MM ID0": mm}]}}
    p = cgminer.normalise(ident("avalon", "Avalon A1366"), avalon, 1.0, 2.0)
    assert p.power_w == 3301 and p.power_source == "estats WALLPOWER" and p.fans_rpm == (5100,)
    assert [(b.temp_board_c, b.temp_chip_c, b.chips) for b in p.boards] == [(71, 88, None)], "the unit's TAvg/TMax"
    boards = " MTmax[88 87 90] MTavg[70 71 72] MGHS[43000 43100 43200]"
    per_board = {**avalon, "estats": {"STATUS": S, "STATS": [{"MM ID0": mm + boards}]}}
    p = cgminer.normalise(ident("avalon", "Avalon A1366"), per_board, 1.0, 2.0)
    assert [(b.temp_board_c, b.temp_chip_c) for b in p.boards] == [(70, 88), (71, 87), (72, 90)]
    assert p.boards[2].hashrate_hs == pytest.approx(4.32e13) and p.boards[0].chips is None, "no chip count from Avalon"


def test_a_summary_without_its_record_is_a_bad_reply() -> None:
    with pytest.raises(BadReply, match="without a SUMMARY"):
        cgminer.normalise(ident("antminer", "Antminer S19"), {"summary": {"STATUS": S}}, 1.0, 2.0)


def test_whatsminer_v2_summary_as_published() -> None:
    summary = {"Elapsed": 2648, "MHS av": 84983730.62, "MHS 5s": 102423869.64, "MHS 1m": 86361423.06,
               "Accepted": 804, "Rejected": 0, "Total MH": 225043191209.0000, "Power": 3593, "Factory GHS": 84773,
               "Hash Stable": True, "Fan Speed In": 4530, "Fan Speed Out": 4530, "Error Code 0": 531}
    edevs = [{"ASC": i, "Temperature": 70.0, "Chip Temp Max": 101.25, "MHS 1m": 2.8e7, "Effective Chips": c,
              "PCB SN": f"HHM{i}"} for i, c in enumerate((105, 105, 99))]
    p = whatsminer.normalise_v2(Identity("h", 4028, "cgminer", "whatsminer", "MicroBT", "Whatsminer M50.VH50", "fw"),
                                {"summary": {"STATUS": S, "SUMMARY": [summary]}, "edevs": {"STATUS": S, "DEVS": edevs},
                                 "pools": {"STATUS": S, "POOLS": [{"Difficulty Accepted": 52428800.0}]}}, 1.0, 2.0)
    assert p.counter is not None and p.counter.hashes == pytest.approx(2.25043191209e17)
    assert p.power_w == 3593 and p.stable is True and p.rates_hs["nominal"] == pytest.approx(8.4773e13)
    assert [b.chips_missing for b in p.boards] == [0, 0, 6] and p.boards[2].serial == "HHM2"
    assert p.accepted_difficulty == 52428800.0 and p.shares == 804 and p.errors == ("531",) and p.hw_errors is None


def test_whatsminer_v3_counter_is_average_times_elapsed_and_it_has_no_share_difficulty() -> None:
    msg = {"summary": {"elapsed": 1074, "factory-hash": 101.366, "hash-average": 101.847, "hash-realtime": 101.8,
                       "power-realtime": 3268, "board-temperature": [69.6, 70.1], "up-freq-finish": 1,
                       "fan-speed-in": 4980, "fan-speed-out": 5070},
           "edevs": [{"id": 0, "effective-chips": 215, "chip-temp-max": 95.0, "hash-average": 33.9},
                     {"id": 1, "effective-chips": 200, "hash-average": 33.0}]}
    p = whatsminer.normalise_v3(Identity("h", 4433, "whatsminer-v3", "whatsminer", "MicroBT", "Whatsminer M60 VK30", "fw"),
                                msg, 1.0, 2.0)
    assert p.counter is not None and p.counter.hashes == pytest.approx(101.847e12 * 1074)
    assert p.counter.resolution == pytest.approx(101.847e12 + 0.0005e12 * 1074)
    assert p.stable is True and p.power_w == 3268 and [b.chips_missing for b in p.boards] == [0, 15]
    assert p.boards[1].temp_board_c == 70.1 and p.accepted_difficulty is None
    with pytest.raises(BadReply):
        whatsminer.normalise_v3(p.identity, {"edevs": []}, 1.0, 2.0)


# --- hostile replies: one BadReply naming the miner, never an IndexError, TypeError or OverflowError -----------

V2 = Identity("10.0.0.7", 4028, "cgminer", "whatsminer", "MicroBT", "Whatsminer M50.VH50", "fw")
V3 = Identity("10.0.0.8", 4433, "whatsminer-v3", "whatsminer", "MicroBT", "Whatsminer M60 VK30", "fw")


@pytest.mark.parametrize("field, value, message", [
    ("Total MH", 1e308, "Total MH is 1e\\+308: not a count"),
    ("Total MH", float("inf"), "Total MH is inf: not a count"),
    ("Total MH", float("nan"), "Total MH is nan: not a count"),
    ("Total MH", -5e9, "not a count"),
    ("Difficulty Accepted", 1e308, "Difficulty Accepted is 1e\\+308"),
    ("Accepted", 1e308, "Accepted is 1e\\+308"),
    ("Accepted", -40, "Accepted is -40"),
    ("Hardware Errors", 1e308, "Hardware Errors is 1e\\+308"),
    ("Elapsed", -1, "Elapsed is -1"),
    ("Total MH", [1], "Total MH is a list"),
])
def test_a_counter_out_of_bounds_refuses_the_poll(field: str, value: object, message: str) -> None:
    with pytest.raises(BadReply, match=f"^10.0.0.5:4028: .*{message}"):
        cgminer.normalise(ident("antminer", "Antminer S19 Pro"), stock_s19(**{field: value}), 1.0, 2.0)


def test_telemetry_out_of_range_is_left_out_and_the_poll_kept() -> None:
    replies = stock_s19()
    stats = replies["stats"]["STATS"][1]  # type: ignore[index]
    stats.update(chain_acn1=1e308, temp_pcb1=1e308, fan1=1e308, chain_rate1=1e308, total_rateideal=1e308)
    p = cgminer.normalise(ident("antminer", "Antminer S19 Pro"), replies, 1.0, 2.0)
    assert p.boards[0].chips is None and p.boards[0].hashrate_hs is None and 5400 not in p.fans_rpm
    assert "nominal" not in p.rates_hs and p.counter is not None


@pytest.mark.parametrize("family, replies, message", [
    ("braiins", {"summary": {"SUMMARY": [{"Elapsed": 1, "Total MH": 1.0}]},
                 "devs": {"DEVS": [{"ID": [6]}]}}, "ID is a list, not text"),
    ("braiins", {"summary": {"SUMMARY": [{"Elapsed": 1, "Total MH": 1.0}]},
                 "tunerstatus": {"TUNERSTATUS": [{"TunerChainStatus": 5}]}}, "TunerChainStatus is 5, not a list"),
    ("braiins", {"summary": {"SUMMARY": [{"Elapsed": 1, "Total MH": 1.0}]},
                 "tunerstatus": {"TUNERSTATUS": [{"ApproximateMinerPowerConsumption": -300}]}}, "not a miner's power"),
    ("avalon", {"summary": {"SUMMARY": [{"Elapsed": 1, "Total MH": 1.0}]},
                "estats": {"STATS": [{"MM ID0": "WALLPOWER[1e999]"}]}}, "WALLPOWER is '1e999'"),
])
def test_wrong_types_and_impossible_figures_per_cgminer_family(family: str, replies: dict[str, object],
                                                               message: str) -> None:
    with pytest.raises(BadReply, match=f"^10.0.0.5:4028: .*{message}"):
        cgminer.normalise(ident(family, "Antminer S19 Pro"), replies, 1.0, 2.0)


@pytest.mark.parametrize("msg, message", [
    ({"summary": {"elapsed": 1, "hash-average": 1e308}}, "hash-average is 1e\\+308"),
    ({"summary": {"elapsed": 1, "hash-average": 100}, "edevs": 5}, "edevs is 5, not a list"),
    ({"summary": {"elapsed": 1, "hash-average": 100, "board-temperature": {"a": 1}}}, "board-temperature is a dict"),
    ({"summary": {"elapsed": 1, "hash-average": 100, "power-realtime": float("nan")}}, "not a miner's power"),
    ({"summary": [1, 2]}, "without a summary"),
])
def test_wrong_types_and_impossible_figures_in_whatsminer_v3(msg: dict[str, object], message: str) -> None:
    with pytest.raises(BadReply, match=f"^10.0.0.8:4433: .*{message}"):
        whatsminer.normalise_v3(V3, msg, 1.0, 2.0)


def test_wrong_types_and_impossible_figures_in_whatsminer_v2() -> None:
    summary = {"Elapsed": 10, "Total MH": 1.0, "Power": 1e308}
    with pytest.raises(BadReply, match="^10.0.0.7:4028: summary Power is 1e\\+308"):
        whatsminer.normalise_v2(V2, {"summary": {"SUMMARY": [summary]}}, 1.0, 2.0)
    summary = {"Elapsed": 10, "Total MH": 1.0, "Power": 0, "Error Code 1": ["x" * 500]}
    p = whatsminer.normalise_v2(V2, {"summary": {"SUMMARY": [summary]}, "edevs": {"DEVS": [{"PCB SN": 5}]}}, 1.0, 2.0)
    assert p.power_w is None, "0 W is a firmware that does not measure"
    assert p.boards[0].serial is None
    assert len(p.errors[0]) == 200


def test_the_pools_share_difficulty_is_read_from_the_active_pool() -> None:
    replies = stock_s19()
    replies["pools"] = {"POOLS": [{"Stratum Active": False, "Last Share Difficulty": 8192.0},
                                  {"Stratum Active": True, "Last Share Difficulty": 1024.0, "Accepted": 90}]}
    assert cgminer.normalise(ident("antminer", "Antminer S19 Pro"), replies, 1.0, 2.0).share_difficulty == 1024.0
    replies["pools"] = {"POOLS": [{"Last Share Difficulty": 8192.0}, {"Last Share Difficulty": 1024.0}]}
    assert cgminer.normalise(ident("antminer", "Antminer S19 Pro"), replies, 1.0, 2.0).share_difficulty is None
