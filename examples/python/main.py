"""sluice demo program: logs in, builds an order, prints a summary."""
import sys

from shop.auth import login
from shop.util import checksum


def build_order(session, items):
    order = {"user": session["user"], "items": items}
    order["check"] = checksum(items)
    return order


def main():
    session = login("ada", "correct-horse-battery-staple")
    order = build_order(session, [{"sku": "tea", "qty": 2}, {"sku": "cup", "qty": 1}])
    print("order for %s: %d items, check %d" % (order["user"], len(order["items"]), order["check"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
