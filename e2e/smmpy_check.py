"""Interop check: the public `smmpy` client library (PyPI) against a live `smmd demo`.

Usage: python e2e/smmpy_check.py <data dir of smmd demo>
Reads <data dir>/demo-credentials.json and drives every action smmpy offers through our
/api/v2: balance, services, add, status, multi-status, refill, multi-refill, refill status,
multi refill status and cancel. Exits non-zero on the first mismatch.
"""
import json
import sys
from decimal import Decimal

from smmpy import smm


def expect_error(call, message):
    try:
        call()
    except Exception as e:  # smmpy raises a bare Exception carrying the panel's error text
        assert str(e) == message, f"expected error {message!r}, got {e!r}"
        return
    raise AssertionError(f"expected error {message!r}, got success")


def main(data_dir):
    creds = json.load(open(f"{data_dir}/demo-credentials.json"))
    api = smm(creds["url"] + "/api/v2", creds["user"]["api_key"])
    checks = 0

    balance = api.get_balance()
    assert set(balance) == {"balance", "currency"}, balance
    start = Decimal(balance["balance"])
    assert start > 0 and balance["currency"] == "USD", balance
    checks += 1

    services = api.get_services()
    followers = next(s for s in services if s["type"] == "Default" and s["refill"])
    assert isinstance(followers["service"], int) and isinstance(followers["rate"], str), followers
    comments = next(s for s in services if s["type"] == "Custom Comments")
    checks += 1

    link = f"https://www.instagram.com/p/smmpy{start}/?utm=1&x=2"
    order = api.add_order(followers["service"], link, int(followers["min"]))
    assert set(order) == {"order"} and isinstance(order["order"], int), order
    expected_charge = Decimal(followers["rate"]) * int(followers["min"]) / 1000
    after = Decimal(api.get_balance()["balance"])
    assert start - after == expected_charge, (start, after, expected_charge)
    checks += 1

    expect_error(lambda: api.add_order(followers["service"], link, int(followers["min"])),
                 "You have active order with this link. Please wait until order being completed.")
    expect_error(lambda: api.add_order(followers["service"], link + "&other", 1),
                 f"Quantity less than minimal {followers['min']}")
    drip = api.add_order(followers["service"], link + "&drip", int(followers["min"]), runs=2, interval=10)
    assert isinstance(drip["order"], int), drip
    c = api.add_order(comments["service"], "https://instagram.com/p/comments", 999, comments="nice pic\ngreat shot 🔥\n")
    checks += 3

    status = api.get_status(order["order"])
    assert isinstance(status["charge"], str) and Decimal(status["charge"]) == expected_charge, status
    assert {k: v for k, v in status.items() if k != "charge"} == {
        "start_count": "0", "status": "Pending", "remains": followers["min"], "currency": "USD"}, status
    multi = api.get_multi_status([order["order"], c["order"], 999999])
    assert set(multi) == {str(order["order"]), str(c["order"]), "999999"}, multi
    assert multi["999999"] == {"error": "Incorrect order ID"}, multi
    assert multi[str(c["order"])]["remains"] == "2", multi
    checks += 2

    expect_error(lambda: api.create_refill(order["order"]), "Order is not completed yet")
    multi_refill = api.create_multi_refill([order["order"], 999999])
    assert multi_refill == [{"order": order["order"], "refill": {"error": "Order is not completed yet"}},
                            {"order": 999999, "refill": {"error": "Incorrect order ID"}}], multi_refill
    expect_error(lambda: api.get_refill_status(424242), "Refill not found")
    assert api.get_multi_refill_status([424242]) == [{"refill": 424242, "status": {"error": "Refill not found"}}]
    checks += 4

    canceled = api.cancel_orders([order["order"], drip["order"], c["order"], 999999])
    assert canceled[:3] == [{"order": order["order"], "cancel": 1}, {"order": drip["order"], "cancel": 1},
                            {"order": c["order"], "cancel": 1}], canceled
    assert canceled[3] == {"order": 999999, "cancel": {"error": "Incorrect order ID"}}, canceled
    assert Decimal(api.get_balance()["balance"]) == start, "cancels of unsent orders refund in full"
    assert api.get_status(order["order"])["status"] == "Canceled"
    checks += 1

    print(f"smmpy interop: {checks} checks passed against {creds['url']}")


if __name__ == "__main__":
    main(sys.argv[1])
