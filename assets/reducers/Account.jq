# Bank accounts: the seed's reducer. The state starts as null; $event is the envelope.
if $event.type == "AccountOpened" then {id: $event.data.accountId, owner: $event.data.ownerName, balance: 0}
elif $event.type == "MoneyDeposited" then .balance += $event.data.amount
elif $event.type == "MoneyWithdrawn" then .balance -= $event.data.amount
else . end
