"""Wrap an existing object: every public method becomes a coordinated operation."""
import asyncio

from quarterdeck.core.integration import CallNotPermitted, CoordinationServiceWrapper


class InventoryService:
    def reserve(self, sku, quantity):
        return f"reserved {quantity} x {sku}"

    def restock(self, sku):
        raise TimeoutError("warehouse API timed out")

    async def count(self, sku):
        return 7


inventory = CoordinationServiceWrapper(
    InventoryService(),
    rules={"reserve": {"required_fields": ["sku"], "field_types": {"quantity": "integer"}}},
    names={"reserve": "inventory.reserve"},
    error_config={"max_retries": 1, "base_delay": 0.01},
)

print(inventory.reserve("SKU-1", 2))
print(asyncio.run(inventory.count("SKU-1")))

for _ in range(6):  # five failed calls in a row open the shared breaker
    try:
        inventory.restock("SKU-1")
    except TimeoutError:
        print("restock failed")
    except CallNotPermitted as refused:
        print("refused:", refused)
