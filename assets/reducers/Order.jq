# Orders: items keyed by SKU; the total is recomputed from items, discount and shipping.
def subtotal: [.items[] | .price * .quantity] | add // 0;
def retotal: .total = (subtotal * (100 - (.discount.percent // 0)) / 100 + (.shipping.cost // 0));

if $event.type == "OrderCreated" then
  {orderId: $event.data.orderId, customerId: $event.data.customerId, status: "pending", items: {}, total: 0}
elif $event.type == "ItemAdded" then .items += $event.data.items | retotal
elif $event.type == "ItemRemoved" then del(.items[$event.data.sku]) | retotal
elif $event.type == "ShippingUpdated" then .shipping = $event.data.shipping | retotal
elif $event.type == "DiscountApplied" then .discount = {code: $event.data.code, percent: $event.data.percent} | retotal
elif $event.type == "OrderCompleted" then .status = "completed" | .completedAt = $event.timestamp
else . end
